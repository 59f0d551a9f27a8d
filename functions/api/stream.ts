import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { channels, type PubSub } from '../../db/pubsub.ts';
import { feedReplay, requireFeedAccess } from '../../economy/admin-reads.ts';
import type { FeedEvent } from '../../economy/feed.ts';
import type { Actor } from '../../economy/rbac.ts';
import type { Db } from '../../db/client.ts';
import type { AppDeps } from '../context.ts';
import { apiGroup, errorSchema } from './openapi.ts';

export interface StreamOptions {
  /** Milliseconds between heartbeats (a comment line that keeps proxies from closing the connection). */
  heartbeatMs: number;
  /** Bytes a client may have waiting unsent before it is dropped as too slow. */
  maxQueuedBytes: number;
}

export const STREAM_DEFAULTS: StreamOptions = { heartbeatMs: 15_000, maxQueuedBytes: 1024 * 1024 };

const encoder = new TextEncoder();
const frame = (event: string, id: string | null, data: string) =>
  encoder.encode(`${id === null ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`);

/** The transfer id of a feed event: toFeedEvent writes it first, so the full parse is only a fallback. */
function eventId(message: string): string | null {
  const leading = /^\{"id":"(\d{1,19})"/.exec(message);
  if (leading) return leading[1]!;
  try {
    const id = (JSON.parse(message) as FeedEvent).id;
    return /^\d{1,19}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** A live event as it arrived from Redis: its id, and its frame encoded once for every client. */
interface LiveEvent {
  id: bigint;
  frame: Uint8Array;
}

/** One connected client of GET /api/tx/stream. */
class StreamClient {
  /** The id of the last event sent; null before the first. */
  lastSent: bigint | null;
  /** True until the first live event after connecting (or after a Redis reconnect) has been checked for a gap. */
  needsFill: boolean;
  /** Live events that arrived while the client was replaying or filling, in arrival (= id) order. */
  private held: LiveEvent[] = [];
  private heldBytes = 0;
  private busy = true;
  closed = false;

  constructor(
    private readonly controller: ReadableStreamDefaultController<Uint8Array>,
    private readonly replay: (after: string, before?: string) => ReturnType<typeof feedReplay>,
    private readonly maxQueuedBytes: number,
    lastEventId: bigint | null,
    private readonly onClose: () => void,
  ) {
    this.lastSent = lastEventId;
    this.needsFill = lastEventId !== null;
  }

  /** Sends what was missed since Last-Event-ID, then whatever arrived live meanwhile. */
  async start(): Promise<void> {
    if (this.lastSent !== null) {
      const missed = await this.replay(this.lastSent.toString());
      this.sendReplay(missed);
    }
    await this.drain();
  }

  /**
   * The live events of one turn of the event loop, in order, and their frames joined: a client that is up to
   * date gets them as one write.
   */
  pushBatch(events: LiveEvent[], joined: Uint8Array): void {
    if (this.closed) return;
    if (!this.busy && !this.needsFill && (this.lastSent === null || events[0]!.id > this.lastSent)) {
      this.write(joined);
      this.lastSent = events.at(-1)!.id;
      return;
    }
    for (const event of events) this.push(event);
  }

  /** A live event from Redis (every client gets each one, in order). */
  push(event: LiveEvent): void {
    if (this.closed) return;
    if (this.busy) {
      this.held.push(event);
      this.heldBytes += event.frame.byteLength;
      if (this.heldBytes > this.maxQueuedBytes) this.close();
      return;
    }
    if (this.needsFill && this.lastSent !== null && event.id > this.lastSent + 1n) {
      // What was published between our last event and this one went out before we (re)subscribed.
      this.busy = true;
      this.held.push(event);
      void this.drain().catch(() => this.close());
      return;
    }
    this.needsFill = false;
    this.send(event);
  }

  /** After a Redis reconnect: events may have been lost, so the next live event is checked for a gap. */
  markGap(): void {
    if (this.lastSent !== null) this.needsFill = true;
  }

  heartbeat(): void {
    if (!this.closed) this.write(encoder.encode(': heartbeat\n\n'));
  }

  end(reason: string): void {
    if (this.closed) return;
    this.write(frame('end', null, JSON.stringify({ reason })));
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.controller.close();
    } catch {
      // Already closed by the client going away.
    }
    this.onClose();
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.held.length > 0) {
      const next = this.held[0]!;
      if (this.lastSent !== null && next.id <= this.lastSent) {
        this.dropHeld();
        continue;
      }
      if (this.needsFill && this.lastSent !== null && next.id > this.lastSent + 1n) {
        this.needsFill = false;
        this.sendReplay(await this.replay(this.lastSent.toString(), next.id.toString()));
        continue;
      }
      this.needsFill = false;
      this.send(this.dropHeld());
    }
    this.busy = false;
  }

  private dropHeld(): LiveEvent {
    const event = this.held.shift()!;
    this.heldBytes -= event.frame.byteLength;
    return event;
  }

  private sendReplay(replay: Awaited<ReturnType<typeof feedReplay>>): void {
    if (replay.kind === 'reset') {
      this.write(frame('reset', replay.lastId, JSON.stringify({ lastId: replay.lastId })));
      this.lastSent = BigInt(replay.lastId);
      return;
    }
    for (const event of replay.events) {
      this.write(frame('tx', event.id, JSON.stringify(event)));
      this.lastSent = BigInt(event.id);
    }
  }

  private send(event: LiveEvent): void {
    if (this.lastSent !== null && event.id <= this.lastSent) return; // the relay is at-least-once
    this.write(event.frame);
    this.lastSent = event.id;
  }

  private write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.controller.enqueue(bytes);
    // desiredSize is minus the bytes the socket has not taken yet: a client that stops reading is dropped.
    if ((this.controller.desiredSize ?? 0) < -this.maxQueuedBytes) this.close();
  }
}

/**
 * The process's fan-out of the transaction feed: one Redis subscription, each event parsed and encoded once,
 * then handed to every connected client in arrival order.
 */
export class TxStreamHub {
  private readonly clients = new Set<StreamClient>();
  private subscribed: Promise<() => void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly pubsub: PubSub,
    private readonly channel: string,
    private readonly options: StreamOptions,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Subscribes on first use and resolves once Redis confirmed it, so nothing published after is missed. */
  private ensureSubscribed(): Promise<unknown> {
    this.subscribed ??= this.pubsub
      .subscribe(this.channel, (message) => this.publish(message))
      .then((unsubscribe) => {
        this.pubsub.onReconnect(() => {
          for (const client of this.clients) client.markGap();
        });
        return unsubscribe;
      });
    this.heartbeat ??= setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
    return this.subscribed;
  }

  /** Events of this turn of the event loop: Redis delivers a relay batch in a few reads, sent as one write. */
  private pending: LiveEvent[] = [];
  private flushing = false;

  private publish(message: string): void {
    const id = eventId(message);
    if (id === null) return;
    this.pending.push({ id: BigInt(id), frame: frame('tx', id, message) });
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushing = false;
    const events = this.pending;
    this.pending = [];
    if (events.length === 0) return;
    const joined = events.length === 1 ? events[0]!.frame : Buffer.concat(events.map((e) => e.frame));
    for (const client of this.clients) client.pushBatch(events, joined);
  }

  private beat(): void {
    for (const client of this.clients) client.heartbeat();
  }

  /** Opens a client's stream: replay from `lastEventId` when given, then live events. */
  async open(
    db: Db,
    reader: Actor,
    lastEventId: bigint | null,
    alive: () => Promise<boolean>,
  ): Promise<ReadableStream<Uint8Array>> {
    requireFeedAccess(reader);
    await this.ensureSubscribed();
    let client!: StreamClient;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client = new StreamClient(
            controller,
            (after, before) => feedReplay(db, reader, { after, before }),
            this.options.maxQueuedBytes,
            lastEventId,
            () => {
              this.clients.delete(client);
              clearInterval(check);
            },
          );
          this.clients.add(client);
        },
        cancel: () => client.close(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 0 }),
    );
    // The stream ends with the session: checked at every heartbeat.
    const check = setInterval(() => {
      alive().then(
        (ok) => ok || client.end('session_ended'),
        () => undefined,
      );
    }, this.options.heartbeatMs);
    check.unref();
    client.start().catch(() => client.close());
    return stream;
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const client of this.clients) client.end('shutdown');
    clearInterval(this.heartbeat);
    void this.subscribed?.then((unsubscribe) => unsubscribe());
  }
}

const hubs = new WeakMap<PubSub, TxStreamHub>();

/** The hub of a process (one per subscriber connection). */
export function txStreamHub(pubsub: PubSub, prefix: string, options = STREAM_DEFAULTS): TxStreamHub {
  let hub = hubs.get(pubsub);
  if (!hub) {
    hub = new TxStreamHub(pubsub, channels.tx(prefix), options);
    hubs.set(pubsub, hub);
  }
  return hub;
}

/** GET /api/tx/stream: the live transaction feed as server-sent events (docs/panel-api.md). */
export function streamRoutes(deps: AppDeps, options: StreamOptions = STREAM_DEFAULTS) {
  const hub = txStreamHub(deps.pubsub, deps.cfg.REDIS_PREFIX, options);
  return apiGroup().openapi(
    createRoute({
      method: 'get',
      path: '/tx/stream',
      summary:
        'Server-sent events: one `tx` event per transfer (id = transfer id), resumable with Last-Event-ID',
      request: {
        headers: z.object({
          'last-event-id': z
            .string()
            .regex(/^\d{1,19}$/)
            .optional(),
        }),
        query: z.object({
          lastEventId: z
            .string()
            .regex(/^\d{1,19}$/)
            .optional(),
        }),
      },
      responses: {
        200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
        default: { description: 'An error', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const resume = c.req.valid('header')['last-event-id'] ?? c.req.valid('query').lastEventId;
      const alive = c.get('sessionAlive') ?? (async () => true);
      const body = await hub.open(
        deps.db,
        c.get('actor'),
        resume === undefined ? null : BigInt(resume),
        alive,
      );
      return c.body(body, 200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        'X-Accel-Buffering': 'no',
      });
    },
  );
}

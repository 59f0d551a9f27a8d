import type { MiddlewareHandler } from 'hono';
import { parseConfig } from '../../config/env.ts';
import { createLogger } from '../../config/logger.ts';
import { PubSub } from '../../db/pubsub.ts';
import { createRedis } from '../../db/redis.ts';
import { AppError } from '../../economy/errors.ts';
import { Ledger } from '../../economy/ledger.ts';
import type { Role } from '../../economy/rbac.ts';
import { createApp, type App } from '../../functions/app.ts';
import { STREAM_DEFAULTS, txStreamHub, type StreamOptions } from '../../functions/api/stream.ts';
import type { AppDeps, AppEnv } from '../../functions/context.ts';
import { Queues } from '../../jobs/queues.ts';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from './db.ts';
import { REDIS_URL } from './env.ts';

export interface As {
  userId: string;
  role: Role;
}

export interface ApiRig {
  t: TestDatabase;
  deps: AppDeps;
  /** A ledger over the rig's database, for tests that move coins outside the API. */
  ledger: Ledger;
  app: App;
  /** Calls /api`path` in-process as `as` (no actor: unauthenticated); JSON in, status and JSON out. */
  call(
    as: As | null,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk the JSON answers freely
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Ends the user's session: their open streams close at the next heartbeat. */
  endSession(userId: string): void;
  /** Starts GET /api/tx/stream as `as`; read its events with `events()`. */
  stream(as: As, lastEventId?: string): Promise<SseClient>;
  close(): Promise<void>;
}

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

export interface SseClient {
  status: number;
  /** Every event and comment received so far, in order (comments as event ':'). */
  received: SseEvent[];
  /** The `tx` events' ids so far. */
  txIds(): string[];
  /** True once the server ended the stream. */
  ended: boolean;
  cancel(): Promise<void>;
}

/** Reads a server-sent event stream in the background, parsing frames as they arrive. */
function readSse(res: Response): SseClient {
  const client: SseClient = {
    status: res.status,
    received: [],
    txIds: () => client.received.filter((e) => e.event === 'tx').map((e) => e.id!),
    ended: false,
    cancel: () => reader.cancel().catch(() => undefined),
  };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) {
          client.received.push({ id: null, event: ':', data: block.slice(1).trim() });
          continue;
        }
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2) ?? null;
        client.received.push({
          id: field('id'),
          event: field('event') ?? 'message',
          data: field('data') ?? '',
        });
      }
    }
    client.ended = true;
  })();
  return client;
}

/**
 * Stands in for the panel's authentication: the actor comes from test headers. The routes behind it are the
 * real ones, so what a role may do is decided by the economy exactly as in production.
 */
function testAuthenticate(ended: Set<string>): MiddlewareHandler<AppEnv> {
  return async function testAuthenticate(c, next) {
    const userId = c.req.header('x-test-user');
    const role = c.req.header('x-test-role') as Role | undefined;
    if (!userId || !role) throw new AppError('unauthenticated', 'Sign in through the panel first.', 401);
    c.set('actor', { kind: 'member', userId, role, source: 'panel', requestId: c.get('requestId') });
    c.set('auth', { kind: 'session', sessionId: `test-${userId}`, csrfToken: 'test' });
    c.set('sessionAlive', async () => !ended.has(userId));
    await next();
  };
}

/** An API app over a fresh database and Redis prefix, with a test authentication. */
export async function startApiRig(
  options: {
    env?: Record<string, string>;
    db?: TestDatabase;
    redisPrefix?: string;
    stream?: StreamOptions;
  } = {},
): Promise<ApiRig> {
  const t = options.db ?? (await createTestDatabase(6));
  const cfg = parseConfig({
    DATABASE_URL: t.url,
    REDIS_URL,
    DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
    REDIS_PREFIX: options.redisPrefix ?? testRedisPrefix(),
    GUILD_ID: '690000000000000099',
    ...options.env,
  });
  const log = createLogger('silent');
  const redis = createRedis(REDIS_URL, 'command', 'api-test');
  const queues = new Queues(redis, `${cfg.REDIS_PREFIX}:bull`, log);
  const pubsub = new PubSub(REDIS_URL, 'api-test-sub');
  const now = () => new Date();
  const deps: AppDeps = { cfg, db: t.db, redis, queues, pubsub, log, now };
  const ended = new Set<string>();
  const app = createApp(deps, {
    authenticate: testAuthenticate(ended),
    stream: options.stream ?? STREAM_DEFAULTS,
  });
  return {
    t,
    deps,
    ledger: new Ledger(t.db, { now }),
    app,
    async call(as, method, path, body, headers = {}) {
      const res = await app.request(`/api${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(as ? { 'x-test-user': as.userId, 'x-test-role': as.role } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      return {
        status: res.status,
        body: type.includes('json') ? JSON.parse(text) : text,
        headers: res.headers,
      };
    },
    endSession(userId) {
      ended.add(userId);
    },
    async stream(as, lastEventId) {
      const res = await app.request('/api/tx/stream', {
        headers: {
          'x-test-user': as.userId,
          'x-test-role': as.role,
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
      });
      return readSse(res);
    },
    async close() {
      txStreamHub(pubsub, cfg.REDIS_PREFIX).close();
      pubsub.close();
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
      if (!options.db) await t.drop();
    },
  };
}

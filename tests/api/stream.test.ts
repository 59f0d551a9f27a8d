import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordRest } from '../../discord/rest.ts';
import { SYSTEM_ACCOUNTS } from '../../economy/ledger.ts';
import { REPLAY_LIMIT } from '../../economy/admin-reads.ts';
import { handleFeedRelay } from '../../jobs/handlers/feed-relay.ts';
import { txStreamHub } from '../../functions/api/stream.ts';
import {
  createTestDatabase,
  fundWallets,
  insertUsers,
  testRedisPrefix,
  type TestDatabase,
} from '../helpers/db.ts';
import { startApiRig, type ApiRig, type As, type SseClient } from '../helpers/api.ts';
import { sleep, until } from '../helpers/wait.ts';

// Two API "replicas" (each its own Redis subscriber and stream hub) over one database and Redis prefix, and the
// worker's feed relay publishing transfers: what the one publishes reaches clients of both.
let t: TestDatabase;
let a: ApiRig;
let b: ApiRig;
let admin: As;
let viewer: As;
let users: string[];
let seq = 0;
const streams: SseClient[] = [];

/** Runs the worker's feed relay until it has published every transfer. */
async function relay() {
  const deps = {
    cfg: a.deps.cfg,
    db: t.db,
    redis: a.deps.redis,
    rest: createDiscordRest(a.deps.cfg),
    log: a.deps.log,
  };
  for (;;) {
    await handleFeedRelay(deps, 50);
    const { max } = await t.db
      .selectFrom('transfers')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirstOrThrow();
    const cursor = await t.db
      .selectFrom('feed_cursors')
      .select('last_id')
      .where('consumer', '=', 'redis')
      .executeTakeFirst();
    if (max === null || (cursor && BigInt(cursor.last_id) >= BigInt(max))) return;
  }
}

/** Mints `n` coins-of-1 transfers through the ledger and publishes them; returns their ids in order. */
async function transfers(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await a.ledger.transfer({
      key: `stream-test:${++seq}`,
      debit: SYSTEM_ACCOUNTS.mint,
      credit: users[i % users.length]!,
      amount: 1,
      reason: 'test',
    });
    if (!r.ok) throw new Error('transfer refused');
    ids.push(r.transferId);
  }
  await relay();
  return ids;
}

async function open(rig: ApiRig, as: As, lastEventId?: string) {
  const s = await rig.stream(as, lastEventId);
  streams.push(s);
  return s;
}

beforeAll(async () => {
  t = await createTestDatabase(8);
  const prefix = testRedisPrefix();
  const stream = { heartbeatMs: 300, maxQueuedBytes: 20_000 };
  a = await startApiRig({ db: t, redisPrefix: prefix, stream });
  b = await startApiRig({ db: t, redisPrefix: prefix, stream });
  const rows = await insertUsers(t.db, 4, 630_000_000_000_000_000n);
  users = rows.map((u) => u.id);
  admin = { userId: users[0]!, role: 'admin' };
  viewer = { userId: users[1]!, role: 'viewer' };
  await relay(); // creates the relay's cursor at the newest transfer
});

afterAll(async () => {
  for (const s of streams) await s.cancel();
  await a?.close();
  await b?.close();
  await t?.drop();
});

describe('GET /api/tx/stream', () => {
  it('delivers a transfer made through one replica to clients of both, in the feed format', async () => {
    const onA = await open(a, viewer);
    const onB = await open(b, viewer);
    expect(onA.status).toBe(200);
    const res = await a.call(
      admin,
      'POST',
      `/users/${users[2]}/adjust`,
      { amount: 7, reason: 'gift' },
      { 'idempotency-key': 'stream-adjust-1' },
    );
    expect(res.status).toBe(200);
    await relay();
    await until('the stream', () => onB.txIds().length === 1 && onA.txIds().length === 1);
    const event = onB.received.find((e) => e.event === 'tx')!;
    expect(event.id).toBe(res.body.transferId);
    expect(JSON.parse(event.data)).toMatchObject({
      id: res.body.transferId,
      kind: 'single',
      reason: 'admin_adjust',
      amount: 7,
      from: { account: SYSTEM_ACCOUNTS.mint, name: 'mint', balance: null },
      to: { account: users[2], balance: 7 },
    });
  });

  it('resumes after a dropped connection with exactly the missed events, in order, then live ones', async () => {
    const first = await open(b, viewer);
    const [seen] = await transfers(1);
    await until('the stream', () => first.txIds().includes(seen!));
    await first.cancel();
    const missed = await transfers(5);

    const again = await open(a, viewer, seen);
    await until('the stream', () => again.txIds().length >= 5);
    const live = await transfers(2);
    await until('the stream', () => again.txIds().length >= 7);
    await sleep(200);
    expect(again.txIds()).toEqual([...missed, ...live]);
  });

  it('answers a gap too old to replay with a reset carrying where the stream continues', async () => {
    await fundWallets(
      a.ledger,
      (await insertUsers(t.db, REPLAY_LIMIT + 1, 640_000_000_000_000_000n)).map((u) => u.id),
      1,
    );
    await relay();
    const s = await open(b, viewer, '1');
    await until('the stream', () => s.received.some((e) => e.event === 'reset'));
    const reset = s.received.find((e) => e.event === 'reset')!;
    const { last_id } = await t.db
      .selectFrom('feed_cursors')
      .select('last_id')
      .where('consumer', '=', 'redis')
      .executeTakeFirstOrThrow();
    expect(reset.id).toBe(String(last_id));
    expect(JSON.parse(reset.data)).toEqual({ lastId: String(last_id) });
    expect(s.txIds()).toEqual([]);
    const next = await transfers(1);
    await until('the stream', () => s.txIds().length === 1);
    expect(s.txIds()).toEqual(next);
  });

  it('sends heartbeats and ends the stream when the session ends', async () => {
    const [, , , other] = users;
    const who: As = { userId: other!, role: 'moderator' };
    const s = await open(a, who);
    await until('the stream', () => s.received.some((e) => e.event === ':' && e.data === 'heartbeat'));
    a.endSession(other!);
    await until('the stream', () => s.ended);
    expect(s.received.at(-1)).toMatchObject({
      event: 'end',
      data: JSON.stringify({ reason: 'session_ended' }),
    });
  });

  it('drops a client that does not read instead of buffering without bound; a reading one keeps up', async () => {
    const hub = txStreamHub(b.deps.pubsub, b.deps.cfg.REDIS_PREFIX);
    const reading = await open(b, viewer);
    const before = hub.size;
    const stalled = await b.app.request('/api/tx/stream', {
      headers: { 'x-test-user': viewer.userId, 'x-test-role': 'viewer' },
    });
    expect(stalled.status).toBe(200);
    expect(hub.size).toBe(before + 1);
    // Bursts below the limit (about 16 kB against 20 kB waiting), each read by the healthy client before the next.
    const sent: string[] = [];
    for (let burst = 0; burst < 3; burst++) {
      sent.push(...(await transfers(40)));
      await until('the reading client', () => reading.txIds().length === sent.length);
    }
    await until('the stalled client dropped', () => hub.size === before);
    expect(reading.ended).toBe(false);
    expect(reading.txIds()).toEqual(sent);
    await stalled.body?.cancel();
  });

  it('needs a signed-in caller', async () => {
    expect((await b.app.request('/api/tx/stream')).status).toBe(401);
  });
});

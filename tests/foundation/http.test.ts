import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/env.ts';
import { createLogger } from '../../config/logger.ts';
import { PubSub } from '../../db/pubsub.ts';
import { createRedis } from '../../db/redis.ts';
import { AppError } from '../../economy/errors.ts';
import { createApp } from '../../functions/app.ts';
import { READINESS_TTL_MS } from '../../functions/health.ts';
import type { AppDeps } from '../../functions/context.ts';
import { Queues } from '../../jobs/queues.ts';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';

let t: TestDatabase;
const closers: (() => Promise<unknown>)[] = [];

function depsWith(redisUrl: string): AppDeps {
  const cfg = parseConfig({
    DATABASE_URL: t.url,
    REDIS_URL: redisUrl,
    DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
    NODE_ENV: 'test',
    REDIS_PREFIX: testRedisPrefix(),
  });
  const log = createLogger('silent');
  const redis = createRedis(redisUrl, 'command', 'http-test');
  const queues = new Queues(redis, `${cfg.REDIS_PREFIX}:bull`, log);
  const pubsub = new PubSub(redisUrl, 'http-test-sub');
  closers.push(
    () => queues.close(),
    () => redis.quit().catch(() => redis.disconnect()),
    async () => pubsub.close(),
  );
  return { cfg, db: t.db, redis, queues, pubsub, log, now: () => new Date() };
}

beforeAll(async () => {
  t = await createTestDatabase(4);
});

afterAll(async () => {
  for (const close of closers) await close();
  await t.drop();
});

describe('health', () => {
  it('answers /healthz while the process lives', async () => {
    const res = await createApp(depsWith(REDIS_URL)).request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('answers /readyz 200 when Postgres and Redis answer', async () => {
    const res = await createApp(depsWith(REDIS_URL)).request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, checks: { postgres: 'ok', redis: 'ok' }, failed: [] });
  });

  it('answers /readyz 503 naming Redis when Redis does not answer', async () => {
    const res = await createApp(depsWith('redis://127.0.0.1:1')).request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      ok: false,
      checks: { postgres: 'ok', redis: 'unreachable' },
      failed: ['redis'],
    });
  });
});

describe('readiness cache', () => {
  it('answers probes for a second from one check, sharing the one in flight, then checks again', async () => {
    const deps = depsWith(REDIS_URL);
    let queries = 0;
    const counted = deps.db.withPlugin({
      transformQuery: (args) => {
        queries++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const app = createApp({ ...deps, db: counted });
    const burst = await Promise.all(Array.from({ length: 20 }, () => app.request('/readyz')));
    for (let i = 0; i < 20; i++) burst.push(await app.request('/readyz'));
    expect(burst.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(queries).toBe(1);

    await new Promise((r) => setTimeout(r, READINESS_TTL_MS + 50));
    expect((await app.request('/readyz')).status).toBe(200);
    expect(queries).toBe(2);
  });
});

describe('edges', () => {
  it('gives every response a request id, or echoes the caller’s', async () => {
    const app = createApp(depsWith(REDIS_URL));
    const fresh = await app.request('/healthz');
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await app.request('/healthz', { headers: { 'X-Request-Id': 'trace-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-123');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await createApp(depsWith(REDIS_URL)).request('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'No such route.' } });
  });

  it('refuses bodies above the limit with 413', async () => {
    const res = await createApp(depsWith(REDIS_URL)).request('/anything', {
      method: 'POST',
      body: 'x'.repeat(1024 * 1024 + 1),
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(413);
  });

  it('translates an AppError into its status and code, and hides anything else', async () => {
    const app = createApp(depsWith(REDIS_URL));
    app.get('/refused', () => {
      throw new AppError('insufficient_funds', 'Not enough coins for that.', 409);
    });
    app.get('/broken', () => {
      throw new Error('connection string postgres://user:secret@db/x leaked');
    });
    const refused = await app.request('/refused');
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      error: { code: 'insufficient_funds', message: 'Not enough coins for that.' },
    });
    const broken = await app.request('/broken');
    expect(broken.status).toBe(500);
    const body = await broken.text();
    expect(body).not.toContain('secret');
    expect(JSON.parse(body)).toEqual({
      error: { code: 'internal', message: 'Something went wrong on our side.' },
    });
  });
});

/**
 * The API process of `npm run bench:api`: the real app (every /api route, the stream hub) served over HTTP,
 * with a fixed owner standing in for the panel's sign-in so that the benchmark measures the API, not logins.
 * Env: DATABASE_URL, REDIS_URL, REDIS_PREFIX, PORT, BENCH_USER_ID. Prints `ready <port>` when listening.
 */
import { serve } from '@hono/node-server';
import { parseConfig } from '../config/env.ts';
import { createLogger } from '../config/logger.ts';
import { createDb } from '../db/client.ts';
import { PubSub } from '../db/pubsub.ts';
import { createRedis } from '../db/redis.ts';
import { createApp } from '../functions/app.ts';
import { Queues } from '../jobs/queues.ts';

const cfg = parseConfig({
  ...process.env,
  DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
  GUILD_ID: '690000000000000099',
});
const userId = process.env.BENCH_USER_ID!;
const log = createLogger('warn', 'bench-api');
const db = createDb(cfg.DATABASE_URL, 10);
const redis = createRedis(cfg.REDIS_URL, 'command', 'bench-api');
const pubsub = new PubSub(cfg.REDIS_URL, 'bench-api-sub');
const now = () => new Date();
const app = createApp(
  {
    cfg,
    db,
    redis,
    queues: new Queues(redis, `${cfg.REDIS_PREFIX}:bull`, log),
    pubsub,
    log,
    now,
  },
  {
    authenticate: async (c, next) => {
      c.set('actor', {
        kind: 'member',
        userId,
        role: 'owner',
        source: 'panel',
        requestId: c.get('requestId'),
      });
      c.set('auth', { kind: 'session', sessionId: `bench-${userId}`, csrfToken: 'bench' });
      c.set('sessionAlive', undefined);
      await next();
    },
  },
);
serve({ fetch: app.fetch, port: cfg.PORT, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`ready ${info.port}\n`);
});

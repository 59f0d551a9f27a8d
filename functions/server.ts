import { serve, type ServerType } from '@hono/node-server';
import { createClock } from '../config/clock.ts';
import { configOrExit, type Config } from '../config/env.ts';
import { createLogger, type Logger } from '../config/logger.ts';
import { createDb } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { createRedis } from '../db/redis.ts';
import { createDiscordRest } from '../discord/rest.ts';
import { Queues } from '../jobs/queues.ts';
import { createServerTapClient } from '../minecraft/servertap.ts';
import { startWorker, type RunningWorker } from '../jobs/worker.ts';
import { createApp } from './app.ts';

const SHUTDOWN_GRACE_MS = 10_000;

/** Starts the role named by ROLE: `migrate` exits after migrating; `all` migrates, then serves and works. */
async function main(cfg: Config, log: Logger): Promise<void> {
  if (cfg.ROLE === 'migrate' || cfg.ROLE === 'all')
    await runMigrations(cfg.DATABASE_URL, log.child({ part: 'migrate' }));
  if (cfg.ROLE === 'migrate') return;

  const db = createDb(cfg.DATABASE_URL, cfg.DATABASE_POOL_MAX);
  const redis = createRedis(cfg.REDIS_URL, 'command', `coinhub-${cfg.ROLE}`);
  const prefix = `${cfg.REDIS_PREFIX}:bull`;
  const queues = new Queues(redis, prefix, log);
  const now = createClock(cfg);

  let server: ServerType | undefined;
  let worker: RunningWorker | undefined;
  const blockingRedis =
    cfg.ROLE === 'api' ? undefined : createRedis(cfg.REDIS_URL, 'blocking', 'coinhub-worker');
  if (blockingRedis) {
    const rest = createDiscordRest(cfg);
    worker = await startWorker({
      cfg,
      db,
      now,
      queues,
      log: log.child({ part: 'worker' }),
      blockingRedis,
      redis,
      rest,
      ...(cfg.MINECRAFT_API_URL
        ? { minecraft: createServerTapClient(cfg.MINECRAFT_API_URL, cfg.MINECRAFT_API_KEY) }
        : {}),
    });
  }

  if (cfg.ROLE !== 'worker') {
    const app = createApp({ cfg, db, redis, queues, log, now });
    server = serve({ fetch: app.fetch, port: cfg.PORT, hostname: '0.0.0.0' }, (info) =>
      log.info({ port: info.port, role: cfg.ROLE }, 'listening'),
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    if (server) {
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      await closed;
    }
    await worker?.close();
    await queues.close();
    await Promise.all([
      db.destroy(),
      redis.quit().catch(() => undefined),
      blockingRedis?.quit().catch(() => undefined),
    ]);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

const cfg = configOrExit();
const log = createLogger(cfg.LOG_LEVEL, `coinhub-${cfg.ROLE}`);
main(cfg, log).then(
  () => {
    if (cfg.ROLE === 'migrate') process.exit(0);
  },
  (err: unknown) => {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
    process.exit(1);
  },
);

import { serve, type ServerType } from '@hono/node-server';
import { createClock } from '../config/clock.ts';
import { configOrExit, type Config } from '../config/env.ts';
import { createLogger, type Logger } from '../config/logger.ts';
import { createDb } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { channels, PubSub } from '../db/pubsub.ts';
import { createRedis } from '../db/redis.ts';
import { createDiscordRest } from '../discord/rest.ts';
import { settingsFor } from '../economy/settings.ts';
import { Queues } from '../jobs/queues.ts';
import { createServerTapClient } from '../minecraft/servertap.ts';
import { startWorker, type RunningWorker } from '../jobs/worker.ts';
import { txStreamHub } from './api/stream.ts';
import { createApp } from './app.ts';
import { portTaken } from './port.ts';
import { StartupSteps, withBackoff } from './startup.ts';

const SHUTDOWN_GRACE_MS = 10_000;

const portInUse = (port: number) =>
  `coinhub: port ${port} is already in use; stop what listens there or set PORT to another port\n`;

/**
 * Starts the role named by ROLE. `migrate` migrates and exits. The others listen at once (so /readyz can say
 * what is missing) and then, in the background and with backoff while Postgres or Redis is down, migrate (`all`)
 * and start the worker (`all`, `worker`).
 */
async function main(cfg: Config, log: Logger): Promise<void> {
  if (cfg.ROLE === 'migrate') {
    await runMigrations(cfg.DATABASE_URL, log.child({ part: 'migrate' }));
    return;
  }
  const serves = cfg.ROLE !== 'worker';
  if (serves && (await portTaken(cfg.PORT))) {
    process.stderr.write(portInUse(cfg.PORT));
    process.exit(1);
  }

  const db = createDb(cfg.DATABASE_URL, cfg.DATABASE_POOL_MAX);
  const redis = createRedis(cfg.REDIS_URL, 'command', `coinhub-${cfg.ROLE}`);
  const prefix = `${cfg.REDIS_PREFIX}:bull`;
  const queues = new Queues(redis, prefix, log);
  const now = createClock(cfg);
  const steps = new StartupSteps();
  let stopping = false;
  if (!cfg.DISCORD_TOKEN)
    log.warn(
      'DISCORD_TOKEN is not set: interactions are answered, but jobs that post messages, create channels or give roles wait until Coinhub runs with a token',
    );
  // Settings saved on any replica reach this one at once; SETTINGS_TTL_MS covers a missed message. The
  // subscription waits for Redis in the background (its connection retries forever), so start-up does not.
  const pubsub = new PubSub(cfg.REDIS_URL, `coinhub-${cfg.ROLE}-sub`);
  const settings = settingsFor({ db, cfg });
  pubsub
    .subscribe(channels.settings(cfg.REDIS_PREFIX), () => settings.invalidate())
    .catch((err: unknown) => {
      if (!stopping)
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'settings subscription failed');
    });
  pubsub.onReconnect(() => settings.invalidate());

  let server: ServerType | undefined;
  if (serves) {
    const app = createApp({ cfg, db, redis, queues, pubsub, log, now, startup: steps });
    server = serve({ fetch: app.fetch, port: cfg.PORT, hostname: '0.0.0.0' }, (info) =>
      log.info({ port: info.port, role: cfg.ROLE }, `listening on http://localhost:${info.port}`),
    );
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err;
      process.stderr.write(portInUse(cfg.PORT));
      process.exit(1);
    });
  }

  let worker: RunningWorker | undefined;
  const blockingRedis =
    cfg.ROLE === 'api' ? undefined : createRedis(cfg.REDIS_URL, 'blocking', 'coinhub-worker');
  const background = (async () => {
    const stopped = () => stopping;
    if (cfg.ROLE === 'all') {
      steps.begin('migrations');
      const migrated = await withBackoff(
        'Postgres',
        () => runMigrations(cfg.DATABASE_URL, log.child({ part: 'migrate' })).then(() => true),
        { log, stopped },
      );
      if (!migrated) return;
      steps.done('migrations');
    }
    if (!blockingRedis) return;
    steps.begin('worker');
    const reachable = await withBackoff('Redis', () => redis.ping(), { log, stopped });
    if (!reachable) return;
    worker = await startWorker({
      cfg,
      db,
      now,
      queues,
      log: log.child({ part: 'worker' }),
      blockingRedis,
      redis,
      rest: createDiscordRest(cfg),
      ...(cfg.MINECRAFT_API_URL
        ? { minecraft: createServerTapClient(cfg.MINECRAFT_API_URL, cfg.MINECRAFT_API_KEY) }
        : {}),
    });
    steps.done('worker');
  })();
  background.catch((err: unknown) => {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
    process.exit(1);
  });

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    if (server?.listening) {
      // Open event streams would hold the server open until the grace period ends.
      txStreamHub(pubsub, cfg.REDIS_PREFIX).close();
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      await closed;
    }
    await background.catch(() => undefined);
    await worker?.close();
    await queues.close();
    pubsub.close();
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

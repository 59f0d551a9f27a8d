import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { sql } from 'kysely';
import type { Config } from '../config/env.ts';
import { throttledWarn } from '../config/logger.ts';
import {
  QUEUES,
  feedRefreshJob,
  feedRelayJob,
  ledgerCheckJob,
  marketCompleteJob,
  marketExpireJob,
  marketSweepJob,
  minecraftDeliverJob,
  minecraftNoticeJob,
  minecraftSweepJob,
  priceRollupJob,
  grantRoleJob,
  orderNoticeJob,
  revokeRoleJob,
  shopRefreshJob,
  setupGuildJob,
  statsRollupJob,
  type JobDefinition,
  type QueueName,
} from './definitions.ts';
import { handleFeedRefresh } from './handlers/feed-refresh.ts';
import { handleFeedRelay } from './handlers/feed-relay.ts';
import { handleLedgerCheck } from './handlers/ledger-check.ts';
import { handleMarketComplete, handleMarketExpire, handleMarketSweep } from './handlers/market-orders.ts';
import { handlePriceRollup } from './handlers/market-prices.ts';
import {
  handleGrantRole,
  handleOrderNotice,
  handleRevokeRole,
  handleShopRefresh,
} from './handlers/market-discord.ts';
import { handleMinecraftDeliver, handleMinecraftNotice, handleMinecraftSweep } from './handlers/minecraft.ts';
import { handleSetupGuild } from './handlers/setup-guild.ts';
import { handleStatsRollup } from './handlers/stats-rollup.ts';
import { startHeartbeat } from './heartbeat.ts';
import type { WorkerDeps } from './deps.ts';
import type { z } from 'zod';

/** Runs one job: parses its payload (a schema error is permanent), then hands it to the job's handler. */
type Handler = (deps: WorkerDeps, data: unknown, job: Job) => Promise<unknown>;

/** The handler entry of `def`: `run` receives the payload `def.schema` parsed, typed by that schema. */
const entry = <S extends z.ZodType>(
  def: JobDefinition<S>,
  run: (deps: WorkerDeps, payload: z.infer<S>, job: Job) => Promise<unknown>,
): [string, Handler] => [
  def.name,
  (deps, data, job) => {
    const parsed = def.schema.safeParse(data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${def.name}`);
    return run(deps, parsed.data, job);
  },
];

const handlers = new Map<string, Handler>([
  entry(ledgerCheckJob, (deps) => handleLedgerCheck(deps)),
  entry(marketExpireJob, handleMarketExpire),
  entry(marketCompleteJob, handleMarketComplete),
  entry(marketSweepJob, (deps) => handleMarketSweep(deps)),
  entry(priceRollupJob, (deps) => handlePriceRollup(deps)),
  entry(shopRefreshJob, handleShopRefresh),
  entry(orderNoticeJob, handleOrderNotice),
  entry(grantRoleJob, handleGrantRole),
  entry(revokeRoleJob, handleRevokeRole),
  entry(feedRelayJob, (deps) => handleFeedRelay(deps)),
  entry(feedRefreshJob, handleFeedRefresh),
  entry(setupGuildJob, handleSetupGuild),
  entry(statsRollupJob, (deps) => handleStatsRollup(deps)),
  entry(minecraftDeliverJob, handleMinecraftDeliver),
  entry(minecraftSweepJob, (deps) => handleMinecraftSweep(deps)),
  entry(minecraftNoticeJob, handleMinecraftNotice),
]);

/** Jobs that call Discord's bot routes (not only interaction webhooks), so they need DISCORD_TOKEN. */
const NEEDS_BOT_TOKEN = new Set<string>([
  setupGuildJob.name,
  feedRelayJob.name,
  feedRefreshJob.name,
  shopRefreshJob.name,
  orderNoticeJob.name,
  grantRoleJob.name,
  revokeRoleJob.name,
]);

/** How long a job that needs the bot token waits before it looks again, when the token is not set. */
const BOT_TOKEN_WAIT_MS = 60_000;

/** The repeatable jobs: scheduler id, job and how often it runs. */
const scheduled = (cfg: Config) => [
  { id: 'ledger-check', def: ledgerCheckJob, repeat: { pattern: cfg.LEDGER_CHECK_CRON } },
  { id: 'market-sweep', def: marketSweepJob, repeat: { every: cfg.MARKET_SWEEP_EVERY_S * 1000 } },
  { id: 'price-rollup', def: priceRollupJob, repeat: { every: cfg.PRICE_ROLLUP_EVERY_S * 1000 } },
  { id: 'feed-relay', def: feedRelayJob, repeat: { every: 1000 } },
  { id: 'stats-rollup', def: statsRollupJob, repeat: { every: 10_000 } },
  { id: 'minecraft-sweep', def: minecraftSweepJob, repeat: { every: cfg.MINECRAFT_SWEEP_EVERY_S * 1000 } },
];

/**
 * Registers repeatable jobs; idempotent, so every worker replica may call it. Without DISCORD_TOKEN the ones
 * that only talk to Discord are removed instead: the feed relay catches up from its cursor once they run again.
 */
async function schedule(deps: WorkerDeps): Promise<void> {
  for (const { id, def, repeat } of scheduled(deps.cfg)) {
    const queue = deps.queues.get(def.queue);
    if (NEEDS_BOT_TOKEN.has(def.name) && !deps.cfg.DISCORD_TOKEN) await queue.removeJobScheduler(id);
    else await queue.upsertJobScheduler(id, repeat, { name: def.name, data: {}, opts: def.options });
  }
}

export interface RunningWorker {
  close(): Promise<void>;
}

/** Starts one BullMQ worker per queue; handlers validate payloads and treat schema errors as permanent. */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const prefix = `${deps.cfg.REDIS_PREFIX}:bull`;
  // While Redis is down every worker reports every reconnect attempt; one line per half minute is enough.
  const warn = throttledWarn(deps.log, 30_000);
  const workers = QUEUES.map((queue: QueueName) => {
    const worker = new Worker(
      queue,
      async (job, token) => {
        const run = handlers.get(job.name);
        if (!run) throw new UnrecoverableError(`no handler for job ${job.name}`);
        if (NEEDS_BOT_TOKEN.has(job.name) && !deps.cfg.DISCORD_TOKEN) {
          // Waits (delayed, its attempts untouched) rather than failing: a replica with the token takes it.
          await job.moveToDelayed(Date.now() + BOT_TOKEN_WAIT_MS, token);
          throw new DelayedError();
        }
        return run(deps, job.data, job);
      },
      { connection: deps.blockingRedis, prefix, concurrency: 8 },
    );
    worker.on('error', (err) => warn('worker', { err: err.message }, 'worker error'));
    worker.on('failed', (job, err) =>
      deps.log.warn({ queue, job: job?.name, id: job?.id, err: err.message }, 'job failed'),
    );
    return worker;
  });
  await schedule(deps);
  const heartbeat = await startHeartbeat({
    file: deps.cfg.WORKER_HEARTBEAT_FILE,
    intervalMs: deps.cfg.WORKER_HEARTBEAT_S * 1000,
    log: deps.log,
    probe: async () => {
      if (!workers.every((w) => w.isRunning())) throw new Error('a queue worker is not running');
      await deps.blockingRedis.ping();
      await sql`select 1`.execute(deps.db);
    },
  });
  deps.log.info({ queues: QUEUES }, 'worker started');
  return {
    async close() {
      await heartbeat.stop();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

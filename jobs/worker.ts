import type { REST } from '@discordjs/rest';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/env.ts';
import type { Db } from '../db/client.ts';
import type { Ledger } from '../economy/ledger.ts';
import {
  QUEUES,
  feedRefreshJob,
  feedRelayJob,
  ledgerCheckJob,
  marketCompleteJob,
  marketExpireJob,
  marketSweepJob,
  priceRollupJob,
  grantRoleJob,
  orderNoticeJob,
  revokeRoleJob,
  shopRefreshJob,
  setupGuildJob,
  type JobDefinition,
  type PayloadOf,
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
import { handleSetupGuild } from './handlers/setup-guild.ts';
import { startHeartbeat } from './heartbeat.ts';
import type { Queues } from './queues.ts';
import type { z } from 'zod';

export interface WorkerDeps {
  cfg: Config;
  db: Db;
  ledger: Ledger;
  queues: Queues;
  log: Logger;
  /** A connection the worker may block on (maxRetriesPerRequest: null). */
  blockingRedis: Redis;
  /** A fail-fast connection for plain commands (never blocked by BullMQ). */
  redis: Redis;
  /** The one Discord REST client (discord/rest.ts). */
  rest: REST;
}

type Handler = (deps: WorkerDeps, payload: unknown, job: Job) => Promise<unknown>;

const handlers = new Map<string, { def: JobDefinition<z.ZodType>; run: Handler }>([
  [ledgerCheckJob.name, { def: ledgerCheckJob, run: (deps) => handleLedgerCheck(deps) }],
  [
    marketExpireJob.name,
    {
      def: marketExpireJob,
      run: (deps, p) => handleMarketExpire(deps, p as PayloadOf<typeof marketExpireJob>),
    },
  ],
  [
    marketCompleteJob.name,
    {
      def: marketCompleteJob,
      run: (deps, p) => handleMarketComplete(deps, p as PayloadOf<typeof marketCompleteJob>),
    },
  ],
  [marketSweepJob.name, { def: marketSweepJob, run: (deps) => handleMarketSweep(deps) }],
  [priceRollupJob.name, { def: priceRollupJob, run: (deps) => handlePriceRollup(deps) }],
  [
    shopRefreshJob.name,
    { def: shopRefreshJob, run: (deps, p) => handleShopRefresh(deps, p as PayloadOf<typeof shopRefreshJob>) },
  ],
  [
    orderNoticeJob.name,
    { def: orderNoticeJob, run: (deps, p) => handleOrderNotice(deps, p as PayloadOf<typeof orderNoticeJob>) },
  ],
  [
    grantRoleJob.name,
    { def: grantRoleJob, run: (deps, p) => handleGrantRole(deps, p as PayloadOf<typeof grantRoleJob>) },
  ],
  [
    revokeRoleJob.name,
    { def: revokeRoleJob, run: (deps, p) => handleRevokeRole(deps, p as PayloadOf<typeof revokeRoleJob>) },
  ],
  [feedRelayJob.name, { def: feedRelayJob, run: (deps) => handleFeedRelay(deps) }],
  [
    feedRefreshJob.name,
    { def: feedRefreshJob, run: (deps, p) => handleFeedRefresh(deps, p as PayloadOf<typeof feedRefreshJob>) },
  ],
  [
    setupGuildJob.name,
    {
      def: setupGuildJob,
      run: (deps, p, job) => handleSetupGuild(deps, p as PayloadOf<typeof setupGuildJob>, job),
    },
  ],
]);

/** Registers repeatable jobs; idempotent, so every worker replica may call it. */
async function schedule(deps: WorkerDeps): Promise<void> {
  await deps.queues
    .get(ledgerCheckJob.queue)
    .upsertJobScheduler(
      'ledger-check',
      { pattern: deps.cfg.LEDGER_CHECK_CRON },
      { name: ledgerCheckJob.name, data: {}, opts: ledgerCheckJob.options },
    );
  await deps.queues
    .get(marketSweepJob.queue)
    .upsertJobScheduler(
      'market-sweep',
      { every: deps.cfg.MARKET_SWEEP_EVERY_S * 1000 },
      { name: marketSweepJob.name, data: {}, opts: marketSweepJob.options },
    );
  await deps.queues
    .get(priceRollupJob.queue)
    .upsertJobScheduler(
      'price-rollup',
      { every: deps.cfg.PRICE_ROLLUP_EVERY_S * 1000 },
      { name: priceRollupJob.name, data: {}, opts: priceRollupJob.options },
    );
  await deps.queues
    .get(feedRelayJob.queue)
    .upsertJobScheduler(
      'feed-relay',
      { every: 1000 },
      { name: feedRelayJob.name, data: {}, opts: feedRelayJob.options },
    );
}

export interface RunningWorker {
  close(): Promise<void>;
}

/** Starts one BullMQ worker per queue; handlers validate payloads and treat schema errors as permanent. */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const prefix = `${deps.cfg.REDIS_PREFIX}:bull`;
  const workers = QUEUES.map((queue: QueueName) => {
    const worker = new Worker(
      queue,
      async (job) => {
        const entry = handlers.get(job.name);
        if (!entry) throw new UnrecoverableError(`no handler for job ${job.name}`);
        const parsed = entry.def.schema.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${job.name}`);
        return entry.run(deps, parsed.data, job);
      },
      { connection: deps.blockingRedis, prefix, concurrency: 8 },
    );
    worker.on('error', (err) => deps.log.warn({ queue, err: err.message }, 'worker error'));
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

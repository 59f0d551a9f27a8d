import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/** A job as producers see it: queue, name, payload schema and retry policy. Handlers live in jobs/handlers. */
export interface JobDefinition<S extends z.ZodType> {
  queue: QueueName;
  name: string;
  schema: S;
  options: JobsOptions;
}

export const QUEUES = ['ledger', 'discord', 'feed', 'market', 'minecraft'] as const;
export type QueueName = (typeof QUEUES)[number];

const defaults: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

const define = <S extends z.ZodType>(queue: QueueName, name: string, schema: S, options: JobsOptions = {}) =>
  ({ queue, name, schema, options: { ...defaults, ...options } }) satisfies JobDefinition<S>;

/** Periodic reconciliation: runs the ledger invariant check and records the outcome. */
export const ledgerCheckJob = define('ledger', 'ledger.check', z.object({}).strict(), { attempts: 1 });

/** The dashboard's rollups and the Idempotency-Key cleanup. Scheduled every 10 seconds. */
export const statsRollupJob = define('ledger', 'stats.rollup', z.object({}).strict(), {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: 100,
});

const snowflake = z.string().regex(/^\d{15,21}$/);

/** /setup: create or reuse the Coinhub channels and the hub message, then edit the deferred response. */
export const setupGuildJob = define(
  'discord',
  'discord.setup-guild',
  z.object({ guildId: snowflake, applicationId: snowflake, interactionId: snowflake }).strict(),
  { attempts: 3, backoff: { type: 'exponential', delay: 2000 } },
);

/** The transaction feed relay: publishes new transfers to Redis and #coin-transactions. Scheduled every second. */
export const feedRelayJob = define('feed', 'feed.relay', z.object({}).strict(), {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { count: 100 },
});

/** Re-renders the feed message that shows a transaction, after an admin acted on it. */
export const feedRefreshJob = define(
  'feed',
  'feed.refresh',
  z.object({ transferId: z.string().regex(/^\d{1,19}$/) }).strict(),
  { attempts: 5, removeOnComplete: true },
);

const orderId = z.object({ orderId: z.string().regex(/^\d{1,18}$/) }).strict();

/** Refunds an order whose escrow ran out undelivered. Delayed until the expiry, jobId `market-expire-<id>`. */
export const marketExpireJob = define('market', 'market.expire-escrow', orderId, { removeOnComplete: true });

/** Completes a delivered order when its confirm window ends. Delayed, jobId `market-complete-<id>`. */
export const marketCompleteJob = define('market', 'market.complete-order', orderId, {
  removeOnComplete: true,
});

/** Expires and completes whatever is overdue in the database (a lost delayed job, a worker that was down). */
export const marketSweepJob = define('market', 'market.sweep', z.object({}).strict(), {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { count: 100 },
});

/** The incremental reference-price rollup. */
export const priceRollupJob = define('market', 'market.price-rollup', z.object({}).strict(), {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { count: 100 },
});

/** Posts or edits a listing's #shop message. Job id per listing and second, so a burst of changes makes one edit. */
export const shopRefreshJob = define(
  'market',
  'market.shop-refresh',
  z.object({ listingId: z.string().regex(/^\d{1,18}$/) }).strict(),
  { attempts: 5, removeOnComplete: true },
);

/** DMs the buyer or the seller about an order event, one job each. A DM Discord refuses is logged and dropped. */
export const orderNoticeJob = define(
  'market',
  'market.order-notice',
  z
    .object({
      orderId: z.string().regex(/^\d{1,18}$/),
      event: z.enum(['placed', 'delivered', 'completed', 'refunded', 'disputed']),
      to: z.enum(['buyer', 'seller']),
    })
    .strict(),
  { attempts: 3, removeOnComplete: true },
);

/** Grants a bought `discord_role` catalog item through the REST API, then marks the order delivered. */
export const grantRoleJob = define('market', 'market.grant-role', orderId, {
  attempts: 5,
  removeOnComplete: true,
});

/** Takes back the role of a refunded `discord_role` order that had been granted. Job id `revoke-<order>`. */
export const revokeRoleJob = define('market', 'market.revoke-role', orderId, {
  attempts: 5,
  removeOnComplete: true,
});

const voucherId = z.object({ voucherId: z.string().regex(/^\d{1,18}$/) }).strict();

/**
 * Delivers a redeemed voucher: online check, then the item's command on the server; retried with backoff while
 * the server is down (the sweeper queues it again after the attempts run out, until the voucher expires).
 */
export const minecraftDeliverJob = define('minecraft', 'minecraft.deliver', voucherId, {
  attempts: 8,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: true,
});

/** Re-queues lost deliveries, completes interrupted ones, flags stuck ones. */
export const minecraftSweepJob = define('minecraft', 'minecraft.sweep', z.object({}).strict(), {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { count: 100 },
});

/** DMs a player that their Minecraft account was linked, or their voucher code. */
export const minecraftNoticeJob = define(
  'minecraft',
  'minecraft.notice',
  z.object({ kind: z.enum(['linked', 'voucher']), id: z.string().regex(/^\d{1,18}$/) }).strict(),
  { attempts: 3, removeOnComplete: true },
);

export type PayloadOf<D> = D extends JobDefinition<infer S> ? z.infer<S> : never;

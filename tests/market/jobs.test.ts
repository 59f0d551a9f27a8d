import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/env.ts';
import { createLogger } from '../../config/logger.ts';
import { createDb } from '../../db/client.ts';
import { createRedis } from '../../db/redis.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import { createListing } from '../../economy/market/listings.ts';
import { Market } from '../../economy/market/market.ts';
import type { Order } from '../../economy/market/types.ts';
import {
  marketCompleteJob,
  marketExpireJob,
  marketSweepJob,
  orderNoticeJob,
  shopRefreshJob,
  type PayloadOf,
} from '../../jobs/definitions.ts';
import {
  handleMarketComplete,
  handleMarketExpire,
  handleMarketSweep,
  type MarketJobDeps,
} from '../../jobs/handlers/market-orders.ts';
import { refreshShopListing, scheduleOrderTimer } from '../../jobs/market-events.ts';
import { Queues } from '../../jobs/queues.ts';
import { createTestDatabase, fundedUsers, testRedisPrefix, type TestDatabase } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { player, settings } from './fixtures.ts';

const ORDERS = 20;
const LEAD_MS = 1500;
const MIN = 60_000;
const HOUR = 60 * MIN;

let t: TestDatabase;
let seller: string;
let buyers: string[];
const log = createLogger('silent', 'market-jobs-test');

beforeAll(async () => {
  t = await createTestDatabase(20);
  const users = await fundedUsers(t.db, ORDERS * 2 + 1, 10_000);
  seller = users[0]!;
  buyers = users.slice(1);
});

afterAll(async () => {
  await t.drop();
});

/** Orders from a clock set so that their deadline (escrow expiry or confirm window) falls LEAD_MS from now. */
async function ordersDueSoon(kind: 'expire' | 'complete', from: string[]): Promise<Order[]> {
  const shift = kind === 'expire' ? settings.escrowTimeoutMin * MIN : settings.confirmWindowH * HOUR;
  const market = new Market(t.db, settings, { now: () => new Date(Date.now() - shift + LEAD_MS) });
  const listing = await createListing(t.db, { ...settings, maxActiveListings: 100 }, player(seller), {
    title: `Timer ${kind}`,
    unitPrice: 30,
    quantity: ORDERS,
  });
  const orders = await Promise.all(
    from.map((buyer) =>
      market.buy(player(buyer), {
        key: `${kind}-${buyer}`,
        listingId: listing.id,
        quantity: 1,
        expectedUnitPrice: 30,
      }),
    ),
  );
  if (kind === 'expire') return orders.map((o) => o.order);
  return Promise.all(
    orders.map(async ({ order }) => (await market.markDelivered(order.id, player(seller))).order),
  );
}

describe('order timers with two workers and racing sweepers', () => {
  it('each overdue order is expired or completed exactly once', async () => {
    const prefix = `${testRedisPrefix()}:bull`;
    const cfg = parseConfig({
      DATABASE_URL: t.url,
      REDIS_URL,
      DISCORD_PUBLIC_KEY: '0'.repeat(64),
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
    });
    const redis = createRedis(REDIS_URL, 'command', 'market-jobs-test');
    const queues = new Queues(redis, prefix, log);

    // Two "processes": separate database pools, Markets and Redis connections.
    const processes = [0, 1].map(
      () => ({ cfg, db: createDb(t.url, 5), log, queues, now: () => new Date() }) satisfies MarketJobDeps,
    );
    const changes = { expire: 0, complete: 0 };
    const count = (r: { changed: boolean }, kind: 'expire' | 'complete') => {
      if (r.changed) changes[kind]++;
      return r;
    };
    const blocking = processes.map(() => createRedis(REDIS_URL, 'blocking', 'market-jobs-test-worker'));
    const workers = processes.map(
      (deps, i) =>
        new Worker(
          'market',
          async (job) => {
            if (job.name === marketExpireJob.name)
              return count(
                await handleMarketExpire(deps, job.data as PayloadOf<typeof marketExpireJob>),
                'expire',
              );
            if (job.name === marketCompleteJob.name)
              return count(
                await handleMarketComplete(deps, job.data as PayloadOf<typeof marketCompleteJob>),
                'complete',
              );
            if (job.name === marketSweepJob.name) {
              const r = await handleMarketSweep(deps);
              changes.expire += r.expired;
              changes.complete += r.completed;
              return r;
            }
            // The DMs and #shop edits that settled orders ask for are not what this test is about.
            if (job.name === orderNoticeJob.name || job.name === shopRefreshJob.name) return null;
            throw new Error(`unexpected job ${job.name}`);
          },
          { connection: blocking[i]!, prefix, concurrency: 8 },
        ),
    );

    const expiring = await ordersDueSoon('expire', buyers.slice(0, ORDERS));
    const completing = await ordersDueSoon('complete', buyers.slice(ORDERS));
    const now = new Date();
    for (const o of [...expiring, ...completing]) {
      expect(await scheduleOrderTimer(queues, o, now)).toBe(true);
      // A retried schedule (same job id) adds nothing.
      expect(await scheduleOrderTimer(queues, o, now)).toBe(true);
    }

    // Both processes also run the sweeper, as a job and directly, racing the delayed jobs around the deadline.
    const stopAt = Date.now() + LEAD_MS + 2500;
    const sweepers = processes.map(async (deps) => {
      while (Date.now() < stopAt) {
        await queues.enqueue(marketSweepJob, {});
        const r = await handleMarketSweep(deps);
        changes.expire += r.expired;
        changes.complete += r.completed;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      }
    });
    await Promise.all(sweepers);
    const market = queues.get('market');
    for (let i = 0; i < 100; i++) {
      const c = await market.getJobCounts('delayed', 'waiting', 'active');
      if ((c.delayed ?? 0) + (c.waiting ?? 0) + (c.active ?? 0) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(workers.map((w) => w.close()));

    expect(changes).toEqual({ expire: ORDERS, complete: ORDERS });
    for (const o of expiring) {
      const voids = await t.db
        .selectFrom('transfers')
        .select('id')
        .where('pending_id', '=', o.holdTransferId)
        .execute();
      expect(voids).toHaveLength(1);
      const row = await t.db
        .selectFrom('orders')
        .select(['state', 'refund_reason'])
        .where('id', '=', o.id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ state: 'refunded', refund_reason: 'escrow_expired' });
    }
    for (const o of completing) {
      const posts = await t.db
        .selectFrom('transfers')
        .select(['amount', 'credit_account_id'])
        .where('pending_id', '=', o.holdTransferId)
        .orderBy('id')
        .execute();
      expect(posts).toEqual([
        { amount: '29', credit_account_id: seller },
        { amount: '1', credit_account_id: '3' },
      ]);
    }
    const stock = await t.db
      .selectFrom('listings')
      .select(['title', 'quantity_left'])
      .orderBy('id')
      .execute();
    expect(stock).toEqual([
      { title: 'Timer expire', quantity_left: ORDERS },
      { title: 'Timer complete', quantity_left: 0 },
    ]);
    expect((await checkLedger(t.db)).ok).toBe(true);

    await market.obliterate({ force: true });
    await queues.close();
    await Promise.all([
      ...processes.map((p) => p.db.destroy()),
      redis.quit(),
      ...blocking.map((b) => b.quit()),
    ]);
  });

  it('fifty changes to a listing within one second queue one #shop edit', async () => {
    const redis = createRedis(REDIS_URL, 'command', 'market-jobs-test');
    const queues = new Queues(redis, `${testRedisPrefix()}:bull`, log);
    const second = Math.floor(Date.now() / 1000) * 1000;
    const burst = Array.from({ length: 50 }, (_, i) => new Date(second + i * 19));
    expect(await Promise.all(burst.map((at) => refreshShopListing(queues, '42', at)))).toEqual(
      burst.map(() => true),
    );
    const market = queues.get('market');
    const jobs = await market.getJobs(['delayed', 'waiting']);
    expect(jobs.map((j) => [j.name, j.data])).toEqual([['market.shop-refresh', { listingId: '42' }]]);
    // It runs just after that second, so it reads the state after the whole burst.
    expect(jobs[0]!.opts.delay).toBeGreaterThanOrEqual(1000 - 49 * 19);
    await refreshShopListing(queues, '42', new Date(second + 1000));
    expect(await market.getJobs(['delayed', 'waiting'])).toHaveLength(2);
    await market.obliterate({ force: true });
    await queues.close();
    await redis.quit();
  });
});

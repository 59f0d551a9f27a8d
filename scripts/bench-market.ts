/**
 * npm run bench:market — completed marketplace purchases (hold, then post with fee) through the economy
 * functions on a freshly migrated database, 16 concurrent buyers.
 *   uniform: buyers spread over 100 listings, for BENCH_SECONDS.
 *   hot:     every buyer hits one listing of BENCH_HOT_UNITS units until it sells out.
 * BENCH_IN_FLIGHT overrides the Market's batches in flight; BENCH_PG_OPTIONS passes server settings to the bench's connections (e.g. "-c jit=off").
 * Last line: {"purchases_ps":..,"hot_listing_purchases_ps":..,"oversold":0,"invariant_ok":true}
 */
import { sql } from 'kysely';
import { createDb, type Db } from '../db/client.ts';
import { AppError } from '../economy/errors.ts';
import { checkLedger } from '../economy/ledger-check.ts';
import { Market } from '../economy/market/market.ts';
import type { MarketSettings } from '../economy/market/types.ts';
import { fundedUsers } from '../tests/helpers/seed.ts';
import { freshDatabase } from './bench-db.ts';

const DB_NAME = 'coinhub_bench_market';
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const HOT_UNITS = Number(process.env.BENCH_HOT_UNITS ?? 4000);
/** Batches each Market batcher keeps in flight (default: the Market's own). */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 0);
/** Extra server settings for the bench's connections, e.g. `-c jit=off` to see the ledger without JIT. */
const PG_OPTIONS = process.env.BENCH_PG_OPTIONS;
const BUYERS = 2000;
const LISTINGS = 100;
const PRICE = 100;

const settings: MarketSettings = {
  feePct: 5,
  floorPct: 50,
  ceilingPct: null,
  escrowTimeoutMin: 1440,
  confirmWindowH: 48,
  maxActiveListings: 1000,
  refSales: 20,
  refMinSales: 3,
  refWindowDays: 30,
};

async function insertListings(db: Db, sellers: string[], quantity: number): Promise<string[]> {
  const rows = await db
    .insertInto('listings')
    .values(
      sellers.map((seller, i) => ({
        seller_id: seller,
        title: `Bench item ${i}`,
        unit_price: PRICE,
        quantity_total: quantity,
        quantity_left: quantity,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((r) => String(r.id));
}

const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

async function main() {
  const url = await freshDatabase(DB_NAME);
  const db = createDb(PG_OPTIONS ? `${url}?options=${encodeURIComponent(PG_OPTIONS)}` : url, 12);
  const buyers = await fundedUsers(db, BUYERS, 100_000_000, 300_000_000_000_000_000n);
  const sellers = await fundedUsers(db, LISTINGS, 0, 300_000_000_000_000_000n + BigInt(BUYERS));
  const listings = await insertListings(db, sellers, 100_000);
  const [hot] = await insertListings(db, [sellers[0]!], HOT_UNITS);
  // Statistics as autovacuum keeps them on a live server (this machine runs Postgres without autovacuum), and
  // the seeding's dirty pages written by a checkpoint rather than during the run.
  await sql`vacuum analyze`.execute(db);
  await sql`checkpoint`.execute(db);
  const market = new Market(db, settings, IN_FLIGHT ? { maxInFlight: IN_FLIGHT } : {});
  const run = Date.now();

  /** One completed purchase: buy one unit, then the buyer confirms and the escrow is posted with the fee. */
  const purchase = async (key: string, listingId: string) => {
    let buyer = pick(buyers);
    while (buyer === sellers[0]) buyer = pick(buyers);
    const actor = { kind: 'member', userId: buyer, role: null, source: 'cli', requestId: key } as const;
    const { order } = await market.buy(actor, { key, listingId, quantity: 1, expectedUnitPrice: PRICE });
    await market.confirmReceived(order.id, actor);
  };

  const deadline = performance.now() + SECONDS * 1000;
  let started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let n = 0; performance.now() < deadline; n++) {
        await purchase(`u:${run}:${c}:${n}`, pick(listings));
        done++;
      }
    }),
  );
  const purchases_ps = Math.round(done / ((performance.now() - started) / 1000));
  console.log(JSON.stringify({ phase: 'uniform', purchases_ps, completed: done }));

  started = performance.now();
  let sold = 0;
  let refusals = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let n = 0; ; n++) {
        try {
          await purchase(`h:${run}:${c}:${n}`, hot!);
          sold++;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          if (err.code !== 'insufficient_stock' && err.code !== 'listing_unavailable') throw err;
          refusals++;
          return;
        }
      }
    }),
  );
  const hot_listing_purchases_ps = Math.round(sold / ((performance.now() - started) / 1000));
  const listing = await db
    .selectFrom('listings')
    .select(['quantity_left', 'state'])
    .where('id', '=', hot!)
    .executeTakeFirstOrThrow();
  const { units } = await db
    .selectFrom('orders')
    .select((eb) => eb.fn.sum<string>('quantity').as('units'))
    .where('listing_id', '=', hot!)
    .executeTakeFirstOrThrow();
  const oversold = Math.max(0, Number(units) - HOT_UNITS, sold - HOT_UNITS, -listing.quantity_left);
  console.log(
    JSON.stringify({
      phase: 'hot',
      hot_listing_purchases_ps,
      sold,
      refusals,
      left: listing.quantity_left,
      state: listing.state,
    }),
  );

  const report = await checkLedger(db);
  await db.destroy();
  console.log(JSON.stringify({ purchases_ps, hot_listing_purchases_ps, oversold, invariant_ok: report.ok }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

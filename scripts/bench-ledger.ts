/**
 * npm run bench:ledger — ledger throughput through the production batcher (TxBatcher and applyInTransaction,
 * as the daily claim and the market use them), on a freshly migrated database, 16 concurrent clients.
 * Last line: {"uniform_tps":..,"hot_tps":..,"escrow_pairs_ps":..,"invariant_ok":true}
 */
import { sql } from 'kysely';
import { createDb } from '../db/client.ts';
import { Ledger, SYSTEM_ACCOUNTS } from '../economy/ledger.ts';
import { checkLedger } from '../economy/ledger-check.ts';
import { fundedUsers } from '../tests/helpers/seed.ts';
import { freshDatabase } from './bench-db.ts';

const DB_NAME = 'coinhub_bench_ledger';
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const USERS = 10_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);

/** Runs `CLIENTS` loops of `step` for `SECONDS`; returns completed steps per second. */
async function measure(
  step: (client: number, n: number) => Promise<void>,
  seconds = SECONDS,
): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; performance.now() < deadline; n++) {
        await step(client, n);
        done++;
      }
    }),
  );
  return Math.round(done / ((performance.now() - started) / 1000));
}

const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)]!;

async function main() {
  const url = await freshDatabase(DB_NAME);
  const seedDb = createDb(url, 8);
  const ids = await fundedUsers(seedDb, USERS, 1_000_000, 200_000_000_000_000_000n);
  // Statistics as autovacuum keeps them on a live server (this machine runs Postgres without autovacuum), the
  // seeding's dirty pages written by a checkpoint rather than during the run, then fresh connections, as a
  // server started after the seeding would have.
  await sql`vacuum analyze`.execute(seedDb);
  await sql`checkpoint`.execute(seedDb);
  await seedDb.destroy();
  const db = createDb(url, 8);
  const ledger = new Ledger(db);
  const run = Date.now();

  const uniform = (phase: string) => async (c: number, n: number) => {
    const from = pick(ids);
    let to = pick(ids);
    while (to === from) to = pick(ids);
    await ledger.transfer({
      key: `${phase}:${run}:${c}:${n}`,
      debit: from,
      credit: to,
      amount: 1 + (n % 10),
      reason: 'bench',
    });
  };
  // Unmeasured warm-up: fresh connections, cold caches and a just-created database run at half speed.
  const warmup_tps = await measure(uniform('w'), WARMUP_SECONDS);
  console.log(JSON.stringify({ phase: 'warmup', warmup_tps }));

  const uniform_tps = await measure(uniform('u'));
  console.log(JSON.stringify({ phase: 'uniform', uniform_tps }));

  const hot_tps = await measure(async (c, n) => {
    await ledger.transfer({
      key: `h:${run}:${c}:${n}`,
      debit: SYSTEM_ACCOUNTS.mint,
      credit: pick(ids),
      amount: 5,
      reason: 'reward',
    });
  });
  console.log(JSON.stringify({ phase: 'hot', hot_tps }));

  const expiresAt = new Date(Date.now() + 3_600_000);
  const escrow_pairs_ps = await measure(async (c, n) => {
    const buyer = pick(ids);
    let seller = pick(ids);
    while (seller === buyer) seller = pick(ids);
    const hold = await ledger.hold({
      key: `eh:${run}:${c}:${n}`,
      debit: buyer,
      amount: 100,
      expiresAt,
      reason: 'bench',
    });
    await ledger.post({
      key: `ep:${run}:${c}:${n}`,
      pendingId: hold.transferId,
      credit: seller,
      fee: 5,
      reason: 'bench',
    });
  });
  console.log(JSON.stringify({ phase: 'escrow', escrow_pairs_ps }));

  const report = await checkLedger(db);
  await db.destroy();
  console.log(JSON.stringify({ uniform_tps, hot_tps, escrow_pairs_ps, invariant_ok: report.ok }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

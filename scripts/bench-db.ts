import pg from 'pg';
import { createLogger } from '../config/logger.ts';
import type { Db } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { Ledger, SYSTEM_ACCOUNTS } from '../economy/ledger.ts';
import { insertUsers } from '../tests/helpers/db.ts';

/** The Postgres server the benchmarks use (trust auth locally); BENCH_PG_URL overrides it. */
export const BENCH_PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** Drops and recreates the benchmark database `name`, migrated; returns its URL. */
export async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: `${BENCH_PG}/postgres` });
  await admin.connect();
  await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  await admin.end();
  const url = `${BENCH_PG}/${name}`;
  await runMigrations(url, createLogger('warn', 'bench'));
  return url;
}

/**
 * `count` players with wallets (Discord ids from `discordBase`), each minted `coins` through the ledger, all
 * at once so the ledger batches them; returns their ids.
 */
export async function seedWallets(
  db: Db,
  count: number,
  discordBase: bigint,
  coins: number,
): Promise<string[]> {
  const ids = (await insertUsers(db, count, discordBase)).map((u) => String(u.id));
  if (coins > 0) {
    const ledger = new Ledger(db);
    await Promise.all(
      ids.map((id) =>
        ledger.transfer({
          key: `seed:${id}`,
          debit: SYSTEM_ACCOUNTS.mint,
          credit: id,
          amount: coins,
          reason: 'seed',
        }),
      ),
    );
  }
  return ids;
}

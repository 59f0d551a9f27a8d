import pg from 'pg';
import { createLogger } from '../config/logger.ts';
import type { Db } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { Ledger, SYSTEM_ACCOUNTS } from '../economy/ledger.ts';

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
  const ids: string[] = [];
  for (let start = 0; start < count; start += 1000) {
    const users = await db
      .insertInto('users')
      .values(
        Array.from({ length: Math.min(1000, count - start) }, (_, i) => ({
          discord_id: String(discordBase + BigInt(start + i)),
          username: `bench${start + i}`,
        })),
      )
      .returning('id')
      .execute();
    await db
      .insertInto('accounts')
      .values(users.map((u) => ({ id: u.id, kind: 'user' as const })))
      .execute();
    ids.push(...users.map((u) => String(u.id)));
  }
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

import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

/** A Kysely handle over a pg pool. bigint (int8) columns stay strings; callers parse them where read. */
export function createDb(databaseUrl: string, poolMax = 20): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolMax, idleTimeoutMillis: 30_000 });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next checkout.
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

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

const RETRYABLE_CODES = new Set(['40001', '40P01']);

/** True for errors a transaction may be retried after: serialization failures and deadlocks. */
export const isRetryableError = (err: unknown): boolean =>
  RETRYABLE_CODES.has((err as { code?: string } | null)?.code ?? '');

/**
 * Runs `fn` (given the attempt number, from 1) and runs it again after an error `isRetryable` accepts, a
 * bounded number of times with jitter. The one retry loop of the ledger, the batchers and `transact`.
 */
export async function retrying<T>(
  fn: (attempt: number) => Promise<T>,
  {
    attempts = 8,
    isRetryable = isRetryableError,
  }: { attempts?: number; isRetryable?: (err: unknown) => boolean } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetryable(err) || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

/**
 * Runs `fn` in a transaction, retrying the whole transaction when Postgres reports a serialization failure or
 * a deadlock. `fn` must be safe to run again: it may only write through the transaction it is given.
 */
export function transact<T>(db: Db, fn: (trx: Tx) => Promise<T>, attempts = 8): Promise<T> {
  return retrying(() => db.transaction().execute(fn), { attempts });
}

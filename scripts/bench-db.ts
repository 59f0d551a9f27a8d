import pg from 'pg';
import { createLogger } from '../config/logger.ts';
import { runMigrations } from '../db/migrate.ts';

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

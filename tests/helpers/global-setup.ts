import pg from 'pg';
import { createLogger } from '../../config/logger.ts';
import { runMigrations } from '../../db/migrate.ts';
import { TEMPLATE_DB, databaseUrl } from './env.ts';

/** Migrates a template database once; every test file clones it. */
export default async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${TEMPLATE_DB} with (force)`);
    const stale = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like 'coinhub_t_%'`,
    );
    for (const { datname } of stale.rows)
      await admin.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await admin.end();
  }
  await runMigrations(databaseUrl(TEMPLATE_DB), createLogger('warn', 'test-migrate'));
}

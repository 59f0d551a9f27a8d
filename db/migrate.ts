import { configOrExit } from '../config/env.ts';
import { createLogger, safeUrl } from '../config/logger.ts';
import { createDb } from './client.ts';
import { ensureDatabase, migrateToLatest } from './migrator.ts';
import type { Logger } from 'pino';

/** Creates the database if needed and applies pending migrations, logging each; throws on failure. */
export async function runMigrations(databaseUrl: string, log: Logger): Promise<void> {
  if (await ensureDatabase(databaseUrl)) log.info({ database: safeUrl(databaseUrl) }, 'created database');
  const db = createDb(databaseUrl, 1);
  try {
    const { error, results = [] } = await migrateToLatest(db);
    results.sort((a, b) => a.migrationName.localeCompare(b.migrationName));
    for (const r of results) {
      const line = { migration: r.migrationName, status: r.status };
      if (r.status === 'Error') log.error(line, 'migration failed');
      else log.info(line, r.status === 'Success' ? 'migration applied' : 'migration not run');
    }
    if (error) throw error instanceof Error ? error : new Error(String(error));
    if (results.length === 0) log.info('database is up to date');
  } finally {
    await db.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cfg = configOrExit();
  const log = createLogger(cfg.LOG_LEVEL, 'migrate');
  runMigrations(cfg.DATABASE_URL, log).then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'migrate failed');
      process.exit(1);
    },
  );
}

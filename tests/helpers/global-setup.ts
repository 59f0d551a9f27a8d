import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../../config/logger.ts';
import { runMigrations } from '../../db/migrate.ts';
import { databaseUrl, TEST_DB_PREFIX, testDbName } from './env.ts';

const STALE_AFTER_S = 3600;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Migrates a template database once per test run; every test file clones it. Names carry their creation
 * time, so databases left behind by a run that crashed are dropped an hour later, while runs going on
 * beside this one keep theirs.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const template = testDbName('tpl');
  await admin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_database where datname like $1`,
      [`${TEST_DB_PREFIX}%`],
    );
    const now = Math.floor(Date.now() / 1000);
    for (const { datname } of rows) {
      const created = Number(datname.split('_')[2]);
      if (now - created > STALE_AFTER_S)
        await client.query(`drop database if exists "${datname}" with (force)`);
    }
  });
  await runMigrations(databaseUrl(template), createLogger('warn', 'test-migrate'));
  project.provide('templateDb', template);
  return async () => {
    await admin((client) => client.query(`drop database if exists "${template}" with (force)`));
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
  }
}

import pg from 'pg';
import { createDb, type Db } from '../../db/client.ts';
import { inject } from 'vitest';
import { databaseUrl, testDbName } from './env.ts';

export { fundedUsers, fundWallets, insertUsers } from './seed.ts';
export { testRedisPrefix } from './redis.ts';

export interface TestDatabase {
  name: string;
  url: string;
  db: Db;
  drop(): Promise<void>;
}

async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

/** A fresh database cloned from the migrated template, private to the calling test file. */
export async function createTestDatabase(poolMax = 20): Promise<TestDatabase> {
  const name = testDbName('db');
  const template = inject('templateDb');
  // Cloning needs the template to have no other sessions; retry briefly while another file clones it.
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`create database ${name} template ${template}`);
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== '55006' || attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const url = databaseUrl(name);
  const db = createDb(url, poolMax);
  return {
    name,
    url,
    db,
    async drop() {
      await db.destroy();
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

/** A wallet's balance, read from its account row. */
export async function balanceOf(db: Db, id: string): Promise<number> {
  const row = await db
    .selectFrom('accounts')
    .select('balance')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return Number(row.balance);
}

/** How many transfers the ledger holds: unchanged after an operation that must move nothing. */
export async function transferCount(db: Db): Promise<number> {
  const row = await db
    .selectFrom('transfers')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

import { randomBytes } from 'node:crypto';
import { SYSTEM_ACCOUNTS, type Ledger } from '../../economy/ledger.ts';
import pg from 'pg';
import { createDb, type Db } from '../../db/client.ts';
import { inject } from 'vitest';
import { databaseUrl, testDbName } from './env.ts';

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

/** Inserts users with wallets holding `balance` coins (minted through the ledger by the caller if needed). */
export async function insertUsers(db: Db, count: number, startDiscordId = 100_000_000_000_000_000n) {
  const rows = Array.from({ length: count }, (_, i) => ({
    discord_id: String(startDiscordId + BigInt(i)),
    username: `user${i}`,
  }));
  const users = await db.insertInto('users').values(rows).returning(['id', 'discord_id']).execute();
  await db
    .insertInto('accounts')
    .values(users.map((u) => ({ id: u.id, kind: 'user' as const })))
    .execute();
  return users;
}

export const testRedisPrefix = () => `test:${randomBytes(6).toString('hex')}`;

/** Mints `amount` coins to each wallet through the ledger, one after another (keys `seed:<id>`). */
export async function fundWallets(ledger: Ledger, ids: string[], amount: number): Promise<void> {
  for (const id of ids) {
    await ledger.transfer({
      key: `seed:${id}`,
      debit: SYSTEM_ACCOUNTS.mint,
      credit: id,
      amount,
      reason: 'seed',
    });
  }
}

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogItem, updateCatalogItem } from '../../economy/market/catalog.ts';
import { createListing } from '../../economy/market/listings.ts';
import { createTestDatabase, fundedUsers, type TestDatabase } from '../helpers/db.ts';
import { until } from '../helpers/wait.ts';
import { admin, player, settings } from './fixtures.ts';

let t: TestDatabase;
let seller: string;
let boss: string;

beforeAll(async () => {
  t = await createTestDatabase(5);
  [seller, boss] = (await fundedUsers(t.db, 2, 0)) as [string, string];
});

afterAll(async () => {
  await t.drop();
});

/**
 * Runs `write` into a deadlock with another session: that session takes `first`, waits until `write` blocks on
 * it, then takes `second`, which `write` already holds. The other session waits far longer before checking for
 * deadlocks, so Postgres aborts `write`'s transaction (40P01); `write` resolves only if it runs again.
 */
async function deadlocked<T>(first: string, second: string, write: () => Promise<T>): Promise<T> {
  const other = new pg.Client({ connectionString: t.url });
  await other.connect();
  try {
    await other.query('begin');
    await other.query(`set local deadlock_timeout = '60s'`);
    await other.query(first);
    const written = write();
    written.catch(() => undefined);
    await until('the write to wait on the lock', async () => {
      const { rows } = await other.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock'`,
      );
      return rows[0]!.n > 0 || undefined;
    });
    await other.query(second);
    await other.query('commit');
    return await written;
  } finally {
    await other.end();
  }
}

describe('listing and catalog writes retry a deadlock', () => {
  it('a new listing that deadlocks on its catalog item and seller is written once', async () => {
    const item = await createCatalogItem(t.db, admin(boss), {
      name: 'Deadlock sword',
      kind: 'other',
      basePrice: 100,
    });
    const listing = await deadlocked(
      `select 1 from catalog_items where id = ${item.id} for update`,
      `select 1 from users where id = ${seller} for update`,
      () =>
        createListing(t.db, settings, player(seller), {
          catalogItemId: item.id,
          unitPrice: 100,
          quantity: 1,
        }),
    );
    expect(listing).toMatchObject({ sellerId: seller, catalogItemId: item.id, unitPrice: 100 });
    const rows = await t.db.selectFrom('listings').select('id').where('seller_id', '=', seller).execute();
    expect(rows.map((r) => String(r.id))).toEqual([listing.id]);
  });

  it('a catalog update that deadlocks on its item and the admin is written once, audited once', async () => {
    const item = await createCatalogItem(t.db, admin(boss), {
      name: 'Deadlock shield',
      kind: 'other',
      basePrice: 50,
    });
    const updated = await deadlocked(
      `select 1 from users where id = ${boss} for update`,
      `select 1 from catalog_items where id = ${item.id} for update`,
      () =>
        updateCatalogItem(t.db, admin(boss), item.id, {
          name: 'Deadlock shield',
          kind: 'other',
          basePrice: 60,
        }),
    );
    expect(updated).toMatchObject({ id: item.id, basePrice: 60 });
    const audits = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', item.id)
      .where('target_type', '=', 'catalog_item')
      .orderBy('id')
      .execute();
    expect(audits.map((a) => a.action)).toEqual(['market.catalog.create', 'market.catalog.update']);
  });
});

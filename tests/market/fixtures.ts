import { sql } from 'kysely';
import type { Db } from '../../db/client.ts';
import type { MarketSettings } from '../../economy/market/types.ts';
import type { Actor, Role } from '../../economy/rbac.ts';

export const settings: MarketSettings = {
  feePct: 5,
  floorPct: 50,
  ceilingPct: null,
  escrowTimeoutMin: 60,
  confirmWindowH: 48,
  maxActiveListings: 3,
  refSales: 20,
  refMinSales: 3,
  refWindowDays: 30,
};

/** A member acting from the panel: staff with `role`, or a plain player (`role` null). */
export const member = (userId: string, role: Role | null): Actor => ({
  kind: 'member',
  userId,
  role,
  source: 'panel',
  requestId: `req-${userId}-${role ?? 'player'}`,
});

export const admin = (userId: string): Actor => member(userId, 'admin');
export const player = (userId: string): Actor => member(userId, null);

/** Derived balance of a system account (fees, burn, escrow): the sum of its transfers. */
export async function systemBalance(db: Db, id: string): Promise<number> {
  const { rows } = await sql<{ b: string }>`
    select coalesce(sum(case when credit_account_id = ${id} then amount else -amount end), 0)::text as b
    from transfers where credit_account_id = ${id} or debit_account_id = ${id}`.execute(db);
  return Number(rows[0]!.b);
}

export async function freeze(db: Db, id: string): Promise<void> {
  await db.updateTable('users').set({ frozen: true, frozen_reason: 'test' }).where('id', '=', id).execute();
}

export const clock = (start = '2026-11-26T12:00:00Z') => {
  const c = {
    at: new Date(start),
    now: () => c.at,
    advance(ms: number) {
      c.at = new Date(c.at.getTime() + ms);
    },
  };
  return c;
};

/**
 * A player's listing of a catalog item only official listings may sell, as listings written before the database
 * refused them left behind: inserted with the refusing trigger off. Returns its id.
 */
export async function insertResoldListing(
  db: Db,
  sellerId: string,
  itemId: string,
  unitPrice: number,
  quantity: number,
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    await sql`alter table listings disable trigger listings_restricted_items`.execute(trx);
    const row = await trx
      .insertInto('listings')
      .values({
        seller_id: sellerId,
        catalog_item_id: itemId,
        title: 'Resold',
        unit_price: unitPrice,
        quantity_total: quantity,
        quantity_left: quantity,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await sql`alter table listings enable trigger listings_restricted_items`.execute(trx);
    return String(row.id);
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, clock, player, settings } from '../../tests/market/fixtures.ts';
import { createTestDatabase, fundedUsers, type TestDatabase } from '../../tests/helpers/db.ts';
import { AppError } from '../errors.ts';
import { checkLedger } from '../ledger-check.ts';
import { createCatalogItem } from './catalog.ts';
import { createListing } from './listings.ts';
import { Market } from './market.ts';
import { assertWithinGuards, priceCeiling, priceFloor, referencePrice, rollupPrices } from './pricing.ts';

describe('floor and ceiling', () => {
  it('the floor rounds up and the ceiling rounds down to whole coins', () => {
    expect(priceFloor(120, { floorPct: 50 })).toBe(60);
    expect(priceFloor(101, { floorPct: 50 })).toBe(51);
    expect(priceFloor(3, { floorPct: 33.33 })).toBe(1);
    expect(priceCeiling(101, { ceilingPct: 150 })).toBe(151);
    expect(priceCeiling(101, { ceilingPct: null })).toBeNull();
  });

  it('states the floor in coins when refusing', () => {
    const ref = { catalogItemId: '1', reference: 120, source: 'sales' as const, salesCount: 5 };
    expect(() => assertWithinGuards('Diamond', ref, 59, { floorPct: 50, ceilingPct: null })).toThrow(
      'Diamond cannot be listed below 60 coins each (50% of its recent sale price of 120 coins).',
    );
    expect(() => assertWithinGuards('Diamond', ref, 60, { floorPct: 50, ceilingPct: null })).not.toThrow();
    expect(() => assertWithinGuards('Diamond', ref, 361, { floorPct: 50, ceilingPct: 300 })).toThrow(
      'Diamond cannot be listed above 360 coins each (300% of its recent sale price of 120 coins).',
    );
  });
});

describe('reference price rollup', () => {
  let t: TestDatabase;
  let market: Market;
  let seller: string;
  let buyers: string[];
  let boss: string;
  const time = clock();
  let n = 0;

  beforeAll(async () => {
    t = await createTestDatabase(10);
    market = new Market(t.db, settings, { now: time.now });
    const users = await fundedUsers(t.db, 8, 1_000_000);
    [seller, boss] = users as [string, string];
    buyers = users.slice(2);
  });

  afterAll(async () => {
    expect((await checkLedger(t.db)).ok).toBe(true);
    await t.drop();
  });

  /** Completes one sale of `itemId` at `price`, from a listing written directly so any price goes. */
  async function sale(itemId: string, price: number) {
    const listing = await t.db
      .insertInto('listings')
      .values({
        seller_id: seller,
        catalog_item_id: itemId,
        title: 'test sale',
        unit_price: price,
        quantity_total: 1,
        quantity_left: 1,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { order } = await market.buy(player(buyers[n % buyers.length]!), {
      key: `sale-${++n}`,
      listingId: listing.id,
      quantity: 1,
      expectedUnitPrice: price,
    });
    await market.confirmReceived(order.id, player(order.buyerId));
    return order;
  }

  it('falls back to the base price until there are enough sales, then uses their median', async () => {
    const item = await createCatalogItem(t.db, admin(boss), {
      name: 'Diamond',
      kind: 'other',
      basePrice: 100,
    });
    expect(await referencePrice(t.db, item.id)).toMatchObject({ reference: 100, source: 'base' });
    await sale(item.id, 120);
    await sale(item.id, 130);
    expect(await rollupPrices(t.db, time.at, settings)).toEqual({ sales: 2, items: 1 });
    expect(await referencePrice(t.db, item.id)).toMatchObject({
      reference: 100,
      source: 'base',
      salesCount: 2,
    });
    await sale(item.id, 125);
    await rollupPrices(t.db, time.at, settings);
    expect(await referencePrice(t.db, item.id)).toMatchObject({
      reference: 125,
      source: 'sales',
      salesCount: 3,
    });
  });

  it('one outlier sale does not move the median', async () => {
    const item = await createCatalogItem(t.db, admin(boss), {
      name: 'Emerald',
      kind: 'other',
      basePrice: 50,
    });
    for (const p of [200, 210, 190, 205, 195]) await sale(item.id, p);
    await rollupPrices(t.db, time.at, settings);
    const before = await referencePrice(t.db, item.id);
    expect(before.reference).toBe(200);
    await sale(item.id, 100_000);
    await rollupPrices(t.db, time.at, settings);
    // Six sales: the lower of the two middle prices, so the outlier changes nothing.
    expect((await referencePrice(t.db, item.id)).reference).toBe(200);
    await sale(item.id, 1);
    await rollupPrices(t.db, time.at, settings);
    expect((await referencePrice(t.db, item.id)).reference).toBe(200);
  });

  it('is incremental: a run with no new sales recomputes nothing', async () => {
    expect(await rollupPrices(t.db, time.at, settings)).toEqual({ sales: 0, items: 0 });
  });

  it('uses only the last N sales', async () => {
    const item = await createCatalogItem(t.db, admin(boss), { name: 'Ruby', kind: 'other', basePrice: 10 });
    for (const p of [10, 10, 10, 50, 50, 50]) await sale(item.id, p);
    await rollupPrices(t.db, time.at, { ...settings, refSales: 3 });
    expect((await referencePrice(t.db, item.id)).reference).toBe(50);
  });

  it('drops sales that leave the window and refunded sales', async () => {
    const item = await createCatalogItem(t.db, admin(boss), { name: 'Opal', kind: 'other', basePrice: 10 });
    for (const p of [40, 40, 40]) await sale(item.id, p);
    await rollupPrices(t.db, time.at, settings);
    expect((await referencePrice(t.db, item.id)).reference).toBe(40);
    time.advance(31 * 86_400_000);
    const aged = await rollupPrices(t.db, time.at, settings);
    expect(aged.sales).toBe(0);
    expect(aged.items).toBeGreaterThanOrEqual(1);
    expect(await referencePrice(t.db, item.id)).toMatchObject({
      reference: 10,
      source: 'base',
      salesCount: 0,
    });

    const orders = [];
    for (const p of [70, 70, 70]) orders.push(await sale(item.id, p));
    await rollupPrices(t.db, time.at, settings);
    expect((await referencePrice(t.db, item.id)).reference).toBe(70);
    await market.adminRefund(orders[0]!.id, admin(boss), 'chargeback');
    expect(await rollupPrices(t.db, time.at, settings)).toEqual({ sales: 1, items: 1 });
    expect(await referencePrice(t.db, item.id)).toMatchObject({ source: 'base', salesCount: 2 });
  });

  it('the guards use the reference; an admin override is allowed and audited, and its sales do not count', async () => {
    const item = await createCatalogItem(t.db, admin(boss), {
      name: 'Netherite',
      kind: 'other',
      basePrice: 1000,
    });
    const err = await createListing(t.db, settings, player(seller), {
      catalogItemId: item.id,
      unitPrice: 499,
      quantity: 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('price_below_floor');
    expect((err as AppError).message).toContain('500 coins');

    const listing = await createListing(t.db, settings, admin(boss), {
      catalogItemId: item.id,
      unitPrice: 10,
      quantity: 1,
      sellerId: seller,
      guardOverrideReason: 'event giveaway',
    });
    expect(listing.guardOverride).toBe(true);
    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_type', '=', 'listing')
      .where('target_id', '=', listing.id)
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({
      action: 'market.listing.create',
      reason: 'event giveaway',
      actor_id: boss,
    });

    const { order } = await market.buy(player(buyers[0]!), {
      key: 'ovr',
      listingId: listing.id,
      quantity: 1,
      expectedUnitPrice: 10,
    });
    await market.confirmReceived(order.id, player(buyers[0]!));
    const sold = await t.db.selectFrom('price_sales').select('id').where('order_id', '=', order.id).execute();
    expect(sold).toHaveLength(0);
  });
});

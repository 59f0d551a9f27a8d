import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../economy/errors.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import { createListing, pauseListing, updateListing } from '../../economy/market/listings.ts';
import { Market } from '../../economy/market/market.ts';
import { balanceOf, createTestDatabase, fundedUsers, type TestDatabase } from '../helpers/db.ts';
import { admin, clock, freeze, player, settings, systemBalance } from './fixtures.ts';

let t: TestDatabase;
let market: Market;
let seller: string;
let buyers: string[];
const time = clock();

beforeAll(async () => {
  t = await createTestDatabase(30);
  market = new Market(t.db, settings, { now: time.now });
  const users = await fundedUsers(t.db, 61, 10_000);
  seller = users[0]!;
  buyers = users.slice(1);
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await t.drop();
});

const sell = (unitPrice: number, quantity: number, by = seller) =>
  createListing(t.db, { ...settings, maxActiveListings: 100 }, player(by), {
    title: 'Enchanted pickaxe',
    unitPrice,
    quantity,
  });

const countRows = async (table: 'orders' | 'transfers') =>
  Number(
    (
      await t.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('buying', () => {
  it('holds the total in escrow, takes the stock and creates a pending order', async () => {
    const listing = await sell(120, 5);
    const buyer = buyers[0]!;
    const {
      order,
      listing: after,
      replayed,
    } = await market.buy(player(buyer), {
      key: 'i-1',
      listingId: listing.id,
      quantity: 2,
      expectedUnitPrice: 120,
    });
    expect(replayed).toBe(false);
    expect(order).toMatchObject({
      state: 'pending',
      quantity: 2,
      unitPrice: 120,
      total: 240,
      fee: 12,
      sellerId: seller,
    });
    expect(order.expiresAt.getTime()).toBe(time.at.getTime() + settings.escrowTimeoutMin * 60_000);
    expect(after).toMatchObject({ quantityLeft: 3, state: 'active' });
    expect(await balanceOf(t.db, buyer)).toBe(10_000 - 240);
    expect(await systemBalance(t.db, '2')).toBe(240);
    const hold = await t.db
      .selectFrom('transfers')
      .selectAll()
      .where('id', '=', order.holdTransferId)
      .executeTakeFirstOrThrow();
    expect(hold).toMatchObject({
      phase: 'pending',
      state: 'pending',
      amount: '240',
      reason: 'market_purchase',
    });
  });

  it('returns the same order for a retried interaction and moves nothing twice', async () => {
    const listing = await sell(50, 3);
    const buyer = buyers[1]!;
    const req = { key: 'i-retry', listingId: listing.id, quantity: 1, expectedUnitPrice: 50 };
    const me = player(buyer);
    const results = await Promise.all([market.buy(me, req), market.buy(me, req), market.buy(me, req)]);
    const again = await new Market(t.db, settings, { now: time.now }).buy(me, req);
    const ids = new Set([...results, again].map((r) => r.order.id));
    expect(ids.size).toBe(1);
    expect(again.replayed).toBe(true);
    expect(await balanceOf(t.db, buyer)).toBe(10_000 - 50);
    expect(
      (
        await t.db
          .selectFrom('listings')
          .select('quantity_left')
          .where('id', '=', listing.id)
          .executeTakeFirstOrThrow()
      ).quantity_left,
    ).toBe(2);
    const reused = await refusal(market.buy(me, { ...req, quantity: 2 }));
    expect(reused.code).toBe('key_reused');
  });

  it('refuses self-purchase, frozen accounts, a changed price and a paused listing, writing nothing', async () => {
    const listing = await sell(10, 10);
    const frozenBuyer = buyers[2]!;
    await freeze(t.db, frozenBuyer);
    const orders = await countRows('orders');
    const transfers = await countRows('transfers');
    const req = (
      key: string,
      { buyerId = buyers[3]!, ...over }: Partial<Parameters<Market['buy']>[1]> & { buyerId?: string } = {},
    ) =>
      market.buy(player(buyerId), {
        key,
        listingId: listing.id,
        quantity: 1,
        expectedUnitPrice: 10,
        ...over,
      });

    expect((await refusal(req('s1', { buyerId: seller }))).code).toBe('self_purchase');
    expect((await refusal(req('s2', { buyerId: frozenBuyer }))).code).toBe('buyer_frozen');
    const changed = await refusal(req('s3', { expectedUnitPrice: 9 }));
    expect(changed.code).toBe('price_changed');
    expect(changed.message).toContain('10 coins');
    expect((await refusal(req('s4', { quantity: 0 }))).code).toBe('invalid_quantity');
    expect((await refusal(req('s5', { quantity: 11 }))).message).toBe('Only 10 left; lower the quantity.');
    expect((await refusal(req('s6', { listingId: '999999' }))).code).toBe('listing_not_found');
    const poor = await refusal(
      req('s7', {
        quantity: 10,
        expectedUnitPrice: 10,
        buyerId: buyers[4]!,
        listingId: (await sell(5000, 3)).id,
      }),
    );
    expect(poor.code).toBe('price_changed');
    const expensive = await sell(6000, 3);
    const broke = await refusal(req('s8', { listingId: expensive.id, expectedUnitPrice: 6000, quantity: 2 }));
    expect(broke.code).toBe('insufficient_funds');
    expect(broke.message).toBe('You need 12,000 coins but have 10,000 coins.');

    await pauseListing(t.db, player(seller), listing.id);
    expect((await refusal(req('s9'))).message).toBe('That listing is paused by its seller.');

    const other = await sell(10, 1, buyers[5]!);
    await freeze(t.db, buyers[5]!);
    expect((await refusal(req('s10', { listingId: other.id }))).code).toBe('seller_frozen');

    expect(await countRows('orders')).toBe(orders);
    expect(await countRows('transfers')).toBe(transfers);
    expect(await balanceOf(t.db, buyers[3]!)).toBe(10_000);
  });

  it('refuses a purchase when the seller changed the price after the buyer looked', async () => {
    const listing = await sell(100, 5);
    await updateListing(t.db, settings, player(seller), listing.id, { unitPrice: 150 });
    const err = await refusal(
      market.buy(player(buyers[6]!), {
        key: 'p1',
        listingId: listing.id,
        quantity: 1,
        expectedUnitPrice: 100,
      }),
    );
    expect(err).toMatchObject({ code: 'price_changed', details: { unitPrice: 150 } });
  });

  it('sells an official listing with no fee, the proceeds going to the burn account when completed', async () => {
    const official = await createListing(t.db, settings, admin(seller), {
      official: true,
      title: 'Server banner',
      unitPrice: 300,
      quantity: 2,
    });
    expect(official).toMatchObject({ official: true, sellerId: null });
    const { order } = await market.buy(player(buyers[7]!), {
      key: 'o1',
      listingId: official.id,
      quantity: 1,
      expectedUnitPrice: 300,
    });
    expect(order).toMatchObject({ sellerId: null, fee: 0, total: 300 });
    const burnBefore = await systemBalance(t.db, '4');
    await market.confirmReceived(order.id, player(buyers[7]!));
    expect((await systemBalance(t.db, '4')) - burnBefore).toBe(300);
  });
});

describe('racing buyers', () => {
  it('50 buyers racing for 10 units: exactly 10 orders, 40 clean refusals, stock 0, no oversell', async () => {
    const listing = await sell(25, 10);
    const racers = buyers.slice(10, 60);
    expect(racers).toHaveLength(50);
    // Five independent Market instances stand in for five API processes, each batching its own requests.
    const markets = Array.from({ length: 5 }, () => new Market(t.db, settings, { now: time.now }));
    const results = await Promise.allSettled(
      racers.map((buyer, i) =>
        markets[i % 5]!.buy(player(buyer), {
          key: `race-${buyer}`,
          listingId: listing.id,
          quantity: 1,
          expectedUnitPrice: 25,
        }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(10);
    expect(lost).toHaveLength(40);
    for (const l of lost) {
      expect(l.reason).toBeInstanceOf(AppError);
      expect(['insufficient_stock', 'listing_unavailable']).toContain((l.reason as AppError).code);
      expect((l.reason as AppError).message).toBe('That listing is sold out.');
    }
    const after = await t.db
      .selectFrom('listings')
      .selectAll()
      .where('id', '=', listing.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({ quantity_left: 0, state: 'sold_out' });
    const orders = await t.db
      .selectFrom('orders')
      .select(['buyer_id', 'quantity'])
      .where('listing_id', '=', listing.id)
      .execute();
    expect(orders).toHaveLength(10);
    expect(new Set(orders.map((o) => o.buyer_id)).size).toBe(10);
    let charged = 0;
    for (const buyer of racers) charged += 10_000 - (await balanceOf(t.db, buyer));
    expect(charged).toBe(250);
    expect((await checkLedger(t.db)).ok).toBe(true);
  });

  it('many buyers taking different quantities never take more than the stock', async () => {
    const listing = await sell(7, 40);
    const racers = buyers.slice(10, 60);
    const results = await Promise.allSettled(
      racers.map((buyer, i) =>
        market.buy(player(buyer), {
          key: `mix-${buyer}`,
          listingId: listing.id,
          quantity: 1 + (i % 4),
          expectedUnitPrice: 7,
        }),
      ),
    );
    const sold = results.reduce((n, r, i) => n + (r.status === 'fulfilled' ? 1 + (i % 4) : 0), 0);
    const after = await t.db
      .selectFrom('listings')
      .select(['quantity_left', 'state'])
      .where('id', '=', listing.id)
      .executeTakeFirstOrThrow();
    expect(sold + after.quantity_left).toBe(40);
    expect(sold).toBeGreaterThanOrEqual(37);
    const { total } = await t.db
      .selectFrom('orders')
      .select((eb) => eb.fn.sum<string>('quantity').as('total'))
      .where('listing_id', '=', listing.id)
      .executeTakeFirstOrThrow();
    expect(Number(total)).toBe(sold);
  });
});

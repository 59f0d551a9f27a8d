import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../economy/errors.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import { createListing } from '../../economy/market/listings.ts';
import { Market } from '../../economy/market/market.ts';
import { dueOrders, getOrder } from '../../economy/market/orders.ts';
import type { Order } from '../../economy/market/types.ts';
import { balanceOf, createTestDatabase, fundedUsers, type TestDatabase } from '../helpers/db.ts';
import { systemActor } from '../../economy/rbac.ts';
import { admin, clock, freeze, member, player, settings, systemBalance } from './fixtures.ts';

const system = systemActor('test-timer');

let t: TestDatabase;
let market: Market;
let seller: string;
let buyer: string;
let boss: string;
let stranger: string;
const time = clock();
const HOUR = 3_600_000;
let n = 0;

beforeAll(async () => {
  t = await createTestDatabase(20);
  market = new Market(t.db, settings, { now: time.now });
  [seller, buyer, boss, stranger] = (await fundedUsers(t.db, 4, 1_000_000)) as [
    string,
    string,
    string,
    string,
  ];
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await t.drop();
});

/** A fresh listing of 5 at `price` and one order of `qty` from it. */
async function order(price = 200, qty = 2): Promise<Order> {
  const listing = await createListing(t.db, { ...settings, maxActiveListings: 1000 }, player(seller), {
    title: `Thing ${++n}`,
    unitPrice: price,
    quantity: 5,
  });
  const { order: o } = await market.buy(player(buyer), {
    key: `k-${n}`,
    listingId: listing.id,
    quantity: qty,
    expectedUnitPrice: price,
  });
  return o;
}

const stockOf = async (o: Order) =>
  (
    await t.db
      .selectFrom('listings')
      .select(['quantity_left', 'state'])
      .where('id', '=', o.listingId)
      .executeTakeFirstOrThrow()
  ).quantity_left;

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const transfersFor = (o: Order) =>
  t.db
    .selectFrom('transfers')
    .select(['phase', 'amount', 'debit_account_id', 'credit_account_id', 'reason'])
    .where((eb) => eb.or([eb('id', '=', o.holdTransferId), eb('pending_id', '=', o.holdTransferId)]))
    .orderBy('id')
    .execute();

describe('completion', () => {
  it('delivered then confirmed: the seller gets the total minus the fee, fees get the fee', async () => {
    const o = await order(200, 2);
    const sellerBefore = await balanceOf(t.db, seller);
    const feesBefore = await systemBalance(t.db, '3');
    const delivered = await market.markDelivered(o.id, player(seller));
    expect(delivered.order).toMatchObject({ state: 'delivered' });
    expect(delivered.order.confirmDeadline!.getTime()).toBe(time.at.getTime() + 48 * HOUR);
    const done = await market.confirmReceived(o.id, player(buyer));
    expect(done).toMatchObject({ changed: true, order: { state: 'completed', fee: 20 } });
    expect((await balanceOf(t.db, seller)) - sellerBefore).toBe(380);
    expect((await systemBalance(t.db, '3')) - feesBefore).toBe(20);
    expect(await transfersFor(o)).toEqual([
      expect.objectContaining({ phase: 'pending', amount: '400' }),
      expect.objectContaining({ phase: 'post', amount: '380', credit_account_id: seller }),
      expect.objectContaining({ phase: 'post', amount: '20', credit_account_id: '3' }),
    ]);
  });

  it('the buyer may confirm before the seller marks delivery', async () => {
    const o = await order(100, 1);
    expect((await market.confirmReceived(o.id, player(buyer))).order.state).toBe('completed');
  });

  it('completes by itself once the confirm window passes, never before', async () => {
    const o = await order(300, 1);
    await market.markDelivered(o.id, player(seller));
    time.advance(47 * HOUR);
    expect(await market.completeAfterConfirmWindow(o.id, system)).toMatchObject({
      changed: false,
      order: { state: 'delivered' },
    });
    time.advance(HOUR);
    expect((await dueOrders(t.db, time.at)).complete).toContain(o.id);
    expect(await market.completeAfterConfirmWindow(o.id, system)).toMatchObject({
      changed: true,
      order: { state: 'completed' },
    });
    expect(await market.completeAfterConfirmWindow(o.id, system)).toMatchObject({ changed: false });
  });

  it('only the buyer confirms, only the seller delivers', async () => {
    const o = await order();
    expect((await refusal(market.confirmReceived(o.id, player(seller)))).code).toBe('not_your_order');
    expect((await refusal(market.markDelivered(o.id, player(stranger)))).code).toBe('not_your_order');
    expect((await refusal(market.cancelBySeller(o.id, player(buyer)))).code).toBe('not_your_order');
    expect((await refusal(market.confirmReceived('424242', player(buyer)))).code).toBe('order_not_found');
  });

  it('a frozen seller cannot be paid by the buyer, but an admin can settle the order', async () => {
    const [otherSeller] = await fundedUsers(t.db, 1, 0, 300_000_000_000_000_000n);
    const listing = await createListing(t.db, settings, player(otherSeller!), {
      title: 'Frozen goods',
      unitPrice: 50,
      quantity: 1,
    });
    const { order: o } = await market.buy(player(buyer), {
      key: 'fz',
      listingId: listing.id,
      quantity: 1,
      expectedUnitPrice: 50,
    });
    await freeze(t.db, otherSeller!);
    expect((await refusal(market.confirmReceived(o.id, player(buyer)))).code).toBe('seller_frozen');
    expect((await getOrder(t.db, o.id))!.state).toBe('pending');
    const done = await market.adminFulfil(o.id, admin(boss), 'buyer confirmed in a ticket');
    expect(done.order.state).toBe('completed');
    expect(await balanceOf(t.db, otherSeller!)).toBe(48);
  });
});

describe('refunds', () => {
  it('the seller cancels: the hold is voided back to the buyer and the stock returns', async () => {
    const o = await order(150, 2);
    const before = await balanceOf(t.db, buyer);
    expect(await stockOf(o)).toBe(3);
    const r = await market.cancelBySeller(o.id, player(seller));
    expect(r.order).toMatchObject({ state: 'refunded', refundReason: 'seller_cancelled' });
    expect(r.restocked).toMatchObject({ quantityLeft: 5, state: 'active' });
    expect((await balanceOf(t.db, buyer)) - before).toBe(300);
    expect(await stockOf(o)).toBe(5);
    expect(await market.cancelBySeller(o.id, player(seller))).toMatchObject({ changed: false });
  });

  it('the buyer cancels before delivery, but not after', async () => {
    const a = await order();
    expect((await market.cancelByBuyer(a.id, player(buyer))).order).toMatchObject({
      state: 'refunded',
      refundReason: 'buyer_cancelled',
    });
    const b = await order();
    await market.markDelivered(b.id, player(seller));
    const err = await refusal(market.cancelByBuyer(b.id, player(buyer)));
    expect(err.code).toBe('order_delivered');
    expect((await getOrder(t.db, b.id))!.state).toBe('delivered');
  });

  it('a sold-out listing comes back to active when a refund restores its stock', async () => {
    const listing = await createListing(t.db, settings, admin(boss), {
      official: true,
      title: 'Last one',
      unitPrice: 10,
      quantity: 1,
    });
    const { order: o, listing: after } = await market.buy(player(buyer), {
      key: 'last',
      listingId: listing.id,
      quantity: 1,
      expectedUnitPrice: 10,
    });
    expect(after.state).toBe('sold_out');
    const r = await market.adminRefund(o.id, admin(boss), 'item was never delivered');
    expect(r.restocked).toMatchObject({ state: 'active', quantityLeft: 1 });
  });

  it('the escrow expires after ESCROW_TIMEOUT_MIN when nothing was delivered', async () => {
    const o = await order(120, 1);
    const before = await balanceOf(t.db, buyer);
    time.advance(59 * 60_000);
    expect(await market.expireEscrow(o.id, system)).toMatchObject({
      changed: false,
      order: { state: 'pending' },
    });
    time.advance(60_000);
    expect((await dueOrders(t.db, time.at)).expire).toContain(o.id);
    expect((await refusal(market.markDelivered(o.id, player(seller)))).code).toBe('escrow_expired');
    const r = await market.expireEscrow(o.id, system);
    expect(r.order).toMatchObject({ state: 'refunded', refundReason: 'escrow_expired' });
    expect((await balanceOf(t.db, buyer)) - before).toBe(120);
    expect(await market.expireEscrow(o.id, system)).toMatchObject({ changed: false });
  });

  it('a delivered order does not expire', async () => {
    const o = await order();
    await market.markDelivered(o.id, player(seller));
    time.advance(2 * HOUR);
    expect(await market.expireEscrow(o.id, system)).toMatchObject({
      changed: false,
      order: { state: 'delivered' },
    });
  });

  it('an admin refund of a completed order reverses the payment and the fee, audited', async () => {
    const o = await order(1000, 1);
    await market.confirmReceived(o.id, player(buyer));
    const [buyerBefore, sellerBefore, feesBefore] = [
      await balanceOf(t.db, buyer),
      await balanceOf(t.db, seller),
      await systemBalance(t.db, '3'),
    ];
    expect((await refusal(market.adminRefund(o.id, admin(boss), ''))).code).toBe('reason_required');
    const r = await market.adminRefund(o.id, admin(boss), 'scam reported');
    expect(r.order).toMatchObject({ state: 'refunded', refundReason: 'admin_refund' });
    expect(r.restocked).toBeNull();
    expect((await balanceOf(t.db, buyer)) - buyerBefore).toBe(1000);
    expect(sellerBefore - (await balanceOf(t.db, seller))).toBe(950);
    expect(feesBefore - (await systemBalance(t.db, '3'))).toBe(50);
    const audit = await t.db.selectFrom('audit_log').selectAll().where('target_id', '=', o.id).execute();
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'market.order.admin_refund',
        actor_id: boss,
        reason: 'scam reported',
        target_type: 'order',
      }),
    ]);
    expect(await market.adminRefund(o.id, admin(boss), 'again')).toMatchObject({ changed: false });
  });

  it('a refund of a completed order fails cleanly when the seller spent the coins', async () => {
    const [poorSeller] = await fundedUsers(t.db, 1, 0, 310_000_000_000_000_000n);
    const listing = await createListing(t.db, settings, player(poorSeller!), {
      title: 'Spent',
      unitPrice: 100,
      quantity: 1,
    });
    const { order: o } = await market.buy(player(buyer), {
      key: 'spent',
      listingId: listing.id,
      quantity: 1,
      expectedUnitPrice: 100,
    });
    await market.confirmReceived(o.id, player(buyer));
    await t.db.transaction().execute(async (trx) => {
      const { applyInTransaction } = await import('../../economy/ledger.ts');
      await applyInTransaction(
        trx,
        [{ op: 'transfer', key: 'spend', debit: poorSeller!, credit: stranger, amount: 90, reason: 'pay' }],
        time.at,
      );
    });
    const err = await refusal(market.adminRefund(o.id, admin(boss), 'fraud'));
    expect(err.code).toBe('seller_insufficient_funds');
    expect((await getOrder(t.db, o.id))!.state).toBe('completed');
    expect(await balanceOf(t.db, poorSeller!)).toBe(5);
  });
});

describe('disputes', () => {
  it('the buyer disputes within the window; an admin fulfils it', async () => {
    const o = await order(400, 1);
    expect((await refusal(market.dispute(o.id, player(buyer), 'never got it'))).code).toBe(
      'order_not_delivered',
    );
    await market.markDelivered(o.id, player(seller));
    expect((await refusal(market.dispute(o.id, player(buyer), ''))).code).toBe('reason_required');
    const d = await market.dispute(o.id, player(buyer), 'the sword is not enchanted');
    expect(d.order).toMatchObject({ state: 'disputed', disputeReason: 'the sword is not enchanted' });
    time.advance(100 * HOUR);
    expect(await market.completeAfterConfirmWindow(o.id, system)).toMatchObject({
      changed: false,
      order: { state: 'disputed' },
    });
    const sellerBefore = await balanceOf(t.db, seller);
    const f = await market.adminFulfil(o.id, admin(boss), 'screenshot shows the enchantment');
    expect(f.order.state).toBe('completed');
    expect((await balanceOf(t.db, seller)) - sellerBefore).toBe(380);
  });

  it('an admin refunds a disputed order and the stock returns', async () => {
    const o = await order(400, 1);
    await market.markDelivered(o.id, player(seller));
    await market.dispute(o.id, player(buyer), 'wrong item');
    const before = await balanceOf(t.db, buyer);
    const r = await market.adminRefund(o.id, admin(boss), 'seller admitted the mistake');
    expect(r.order.state).toBe('refunded');
    expect((await balanceOf(t.db, buyer)) - before).toBe(400);
    expect(await stockOf(o)).toBe(5);
  });

  it('no dispute once the confirm window has passed', async () => {
    const o = await order();
    await market.markDelivered(o.id, player(seller));
    time.advance(48 * HOUR);
    expect((await refusal(market.dispute(o.id, player(buyer), 'too late'))).code).toBe(
      'confirm_window_closed',
    );
  });
});

describe('races', () => {
  it('double confirm: coins move once', async () => {
    const o = await order(500, 1);
    const other = new Market(t.db, settings, { now: time.now });
    const before = await balanceOf(t.db, seller);
    const results = await Promise.all([
      market.confirmReceived(o.id, player(buyer)),
      other.confirmReceived(o.id, player(buyer)),
      other.confirmReceived(o.id, player(buyer)),
    ]);
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect((await balanceOf(t.db, seller)) - before).toBe(475);
    expect((await transfersFor(o)).filter((x) => x.phase === 'post')).toHaveLength(2);
  });

  it('admin refund racing a confirm: the buyer ends refunded once, by a void or by a post and its reversal', async () => {
    for (let i = 0; i < 15; i++) {
      const o = await order(100, 1);
      const other = new Market(t.db, settings, { now: time.now });
      const [buyerBefore, sellerBefore] = [await balanceOf(t.db, buyer), await balanceOf(t.db, seller)];
      const results = await Promise.allSettled([
        market.confirmReceived(o.id, player(buyer)),
        other.adminRefund(o.id, admin(boss), 'race'),
      ]);
      expect(results[1].status).toBe('fulfilled');
      expect((await getOrder(t.db, o.id))!.state).toBe('refunded');
      expect((await balanceOf(t.db, buyer)) - buyerBefore).toBe(100);
      expect(await balanceOf(t.db, seller)).toBe(sellerBefore);
      const moves = await transfersFor(o);
      const voids = moves.filter((x) => x.phase === 'void').length;
      const posts = moves.filter((x) => x.phase === 'post').length;
      expect(voids === 1 ? posts : posts === 2 ? voids : -1).toBe(0);
    }
    expect((await checkLedger(t.db)).ok).toBe(true);
  });

  it('escrow expiry racing a late confirm: exactly one wins', async () => {
    for (let i = 0; i < 15; i++) {
      const o = await order(100, 1);
      time.advance(61 * 60_000);
      const other = new Market(t.db, settings, { now: time.now });
      const results = await Promise.allSettled([
        other.expireEscrow(o.id, system),
        market.confirmReceived(o.id, player(buyer)),
      ]);
      const changed = results.filter((r) => r.status === 'fulfilled' && r.value.changed);
      expect(changed).toHaveLength(1);
      const moves = await transfersFor(o);
      expect(
        moves.filter((x) => x.phase === 'void').length +
          moves.filter((x) => x.reason === 'market_sale').length,
      ).toBe(1);
    }
  });

  it('seller cancel racing buyer confirm on a pending order: one outcome', async () => {
    for (let i = 0; i < 15; i++) {
      const o = await order(100, 1);
      const other = new Market(t.db, settings, { now: time.now });
      const results = await Promise.allSettled([
        market.confirmReceived(o.id, player(buyer)),
        other.cancelBySeller(o.id, player(seller)),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled' && r.value.changed);
      expect(won).toHaveLength(1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      expect(loser).toBeDefined();
      expect(['order_completed', 'order_refunded']).toContain((loser!.reason as AppError).code);
      const moves = await transfersFor(o);
      expect(moves.filter((x) => x.phase !== 'pending').length).toBeLessThanOrEqual(2);
      expect(moves.some((x) => x.phase === 'void') && moves.some((x) => x.phase === 'post')).toBe(false);
    }
  });
});

describe('frozen accounts and escrow', () => {
  it("a frozen buyer's or seller's own transitions are refused; staff still settle their orders", async () => {
    const [frozenBuyer, frozenSeller] = await fundedUsers(t.db, 2, 1000, 330_000_000_000_000_000n);
    const listing = await createListing(t.db, { ...settings, maxActiveListings: 1000 }, player(seller), {
      title: 'Escrowed goods',
      unitPrice: 40,
      quantity: 5,
    });
    const bought = async (key: string) =>
      (
        await market.buy(player(frozenBuyer!), {
          key,
          listingId: listing.id,
          quantity: 1,
          expectedUnitPrice: 40,
        })
      ).order;
    const a = await bought('fb-a');
    const b = await bought('fb-b');
    await market.markDelivered(a.id, player(seller));
    await freeze(t.db, frozenBuyer!);
    const sellerBefore = await balanceOf(t.db, seller);
    for (const attempt of [
      () => market.confirmReceived(a.id, player(frozenBuyer!)),
      () => market.dispute(a.id, player(frozenBuyer!), 'changed my mind'),
      () => market.cancelByBuyer(b.id, player(frozenBuyer!)),
    ]) {
      expect((await refusal(attempt())).code).toBe('account_frozen');
    }
    expect((await getOrder(t.db, a.id))!.state).toBe('delivered');
    expect((await getOrder(t.db, b.id))!.state).toBe('pending');
    expect(await balanceOf(t.db, seller)).toBe(sellerBefore);
    // Staff acting on a frozen player's orders are not refused.
    expect((await market.adminFulfil(a.id, admin(boss), 'delivered, per ticket')).order.state).toBe(
      'completed',
    );
    expect((await market.adminRefund(b.id, admin(boss), 'frozen account')).order.state).toBe('refunded');

    const own = await createListing(t.db, settings, player(frozenSeller!), {
      title: 'Frozen seller goods',
      unitPrice: 40,
      quantity: 2,
    });
    const { order: c } = await market.buy(player(buyer), {
      key: 'fs-c',
      listingId: own.id,
      quantity: 1,
      expectedUnitPrice: 40,
    });
    await freeze(t.db, frozenSeller!);
    expect((await refusal(market.markDelivered(c.id, player(frozenSeller!)))).code).toBe('account_frozen');
    expect((await refusal(market.cancelBySeller(c.id, player(frozenSeller!)))).code).toBe('account_frozen');
    expect((await getOrder(t.db, c.id))!.state).toBe('pending');
  });
});

describe('staff settling their own orders', () => {
  it('a moderator cannot refund or fulfil an order they are a party to; an admin can', async () => {
    const o = await order(100, 1);
    expect((await refusal(market.adminRefund(o.id, member(buyer, 'moderator'), 'refund me'))).code).toBe(
      'own_order',
    );
    expect((await refusal(market.adminFulfil(o.id, member(seller, 'moderator'), 'pay me'))).code).toBe(
      'own_order',
    );
    expect((await getOrder(t.db, o.id))!.state).toBe('pending');
    expect((await market.adminRefund(o.id, member(buyer, 'admin'), 'admin may')).order.state).toBe(
      'refunded',
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, insertUsers, type TestDatabase } from '../tests/helpers/db.ts';
import { checkLedger } from './ledger-check.ts';
import { Ledger, SYSTEM_ACCOUNTS } from './ledger.ts';
import { walletSummary } from './wallet.ts';

let t: TestDatabase;
let ledger: Ledger;
let alice: string;
let bob: string;
let carol: string;
const clock = { now: new Date('2026-11-26T12:00:00Z') };
const tick = () => (clock.now = new Date(clock.now.getTime() + 60_000));
const later = () => new Date(clock.now.getTime() + 3_600_000);

beforeAll(async () => {
  t = await createTestDatabase();
  ledger = new Ledger(t.db, { now: () => clock.now });
  [alice, bob, carol] = (await insertUsers(t.db, 3, 500_000_000_000_000_000n)).map((u) => u.id) as [
    string,
    string,
    string,
  ];
  await t.db.updateTable('users').set({ global_name: 'Bobby' }).where('id', '=', bob).execute();
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await t.drop();
});

describe('walletSummary', () => {
  it('shows an empty wallet', async () => {
    expect(await walletSummary(t.db, alice)).toEqual({
      userId: alice,
      balance: 0,
      held: 0,
      streak: { current: 0, best: 0 },
      recent: [],
    });
  });

  it('lists transfers newest first with sign, amount, memo and counterparty names', async () => {
    const mint = await ledger.transfer({
      key: 'w:mint',
      debit: SYSTEM_ACCOUNTS.mint,
      credit: alice,
      amount: 1000,
      reason: 'daily',
    });
    tick();
    const toBob = await ledger.transfer({
      key: 'w:pay-bob',
      debit: alice,
      credit: bob,
      amount: 150,
      reason: 'pay',
      memo: 'for the pickaxe',
    });
    tick();
    const fromCarol = await ledger.transfer({
      key: 'w:seed-carol',
      debit: SYSTEM_ACCOUNTS.mint,
      credit: carol,
      amount: 50,
      reason: 'daily',
    });
    tick();
    const carolPays = await ledger.transfer({
      key: 'w:carol-alice',
      debit: carol,
      credit: alice,
      amount: 20,
      reason: 'pay',
    });
    tick();
    const burned = await ledger.transfer({
      key: 'w:burn',
      debit: alice,
      credit: SYSTEM_ACCOUNTS.burn,
      amount: 5,
      reason: 'admin_adjust',
    });

    const card = await walletSummary(t.db, alice, 5);
    expect(card.balance).toBe(865);
    expect(card.recent.map((e) => [e.transferId, e.sign, e.amount, e.reason])).toEqual([
      [burned.transferId, -1, 5, 'admin_adjust'],
      [carolPays.transferId, 1, 20, 'pay'],
      [toBob.transferId, -1, 150, 'pay'],
      [mint.transferId, 1, 1000, 'daily'],
    ]);
    expect(fromCarol.transferId).not.toBe(carolPays.transferId);
    expect(card.recent[0]!.counterparty).toEqual({ kind: 'system', code: 'burn' });
    expect(card.recent[1]!.counterparty).toEqual({
      kind: 'user',
      userId: carol,
      discordId: '500000000000000002',
      name: 'user2',
    });
    expect(card.recent[2]).toMatchObject({
      memo: 'for the pickaxe',
      counterparty: { kind: 'user', userId: bob, discordId: '500000000000000001', name: 'Bobby' },
      at: new Date('2026-11-26T12:01:00Z'),
    });
    expect(card.recent[3]!.counterparty).toEqual({ kind: 'system', code: 'mint' });

    const bobCard = await walletSummary(t.db, bob);
    expect(bobCard.recent).toHaveLength(1);
    expect(bobCard.recent[0]).toMatchObject({
      sign: 1,
      amount: 150,
      counterparty: { kind: 'user', userId: alice },
    });
  });

  it('returns only the last N, interleaving debits and credits', async () => {
    for (let i = 0; i < 6; i++) {
      tick();
      await ledger.transfer({ key: `w:out-${i}`, debit: alice, credit: bob, amount: 1, reason: 'pay' });
      tick();
      await ledger.transfer({ key: `w:in-${i}`, debit: bob, credit: alice, amount: 1, reason: 'pay' });
    }
    const card = await walletSummary(t.db, alice, 3);
    expect(card.recent.map((e) => e.sign)).toEqual([1, -1, 1]);
    const ids = card.recent.map((e) => BigInt(e.transferId));
    expect([...ids].sort((a, b) => (b > a ? 1 : -1))).toEqual(ids);
    expect((await walletSummary(t.db, alice)).recent).toHaveLength(3);
    expect((await walletSummary(t.db, alice, 0)).recent).toEqual([]);
    expect((await walletSummary(t.db, alice, 25)).recent).toHaveLength(16);
  });

  it('counts pending holds only as held, and names the buyer on an escrow payout', async () => {
    tick();
    const open = await ledger.hold({
      key: 'w:hold-open',
      debit: alice,
      amount: 40,
      expiresAt: later(),
      reason: 'market_purchase',
    });
    const posted = await ledger.hold({
      key: 'w:hold-posted',
      debit: alice,
      amount: 30,
      expiresAt: later(),
      reason: 'market_purchase',
    });
    const voided = await ledger.hold({
      key: 'w:hold-voided',
      debit: alice,
      amount: 20,
      expiresAt: later(),
      reason: 'market_purchase',
    });
    await ledger.post({
      key: 'w:post',
      pendingId: posted.transferId,
      credit: carol,
      fee: 3,
      reason: 'market_sale',
    });
    await ledger.void({ key: 'w:void', pendingId: voided.transferId, reason: 'market_refund' });

    const card = await walletSummary(t.db, alice, 5);
    expect(card.held).toBe(40);
    expect(card.balance).toBe(865 - 40 - 30);
    expect(card.recent.slice(0, 4).map((e) => [e.sign, e.amount, e.reason, e.counterparty])).toEqual([
      [1, 20, 'market_refund', { kind: 'system', code: 'escrow' }],
      [-1, 20, 'market_purchase', { kind: 'system', code: 'escrow' }],
      [-1, 30, 'market_purchase', { kind: 'system', code: 'escrow' }],
      [-1, 40, 'market_purchase', { kind: 'system', code: 'escrow' }],
    ]);
    expect(open.transferId).toBe(card.recent[3]!.transferId);

    const seller = await walletSummary(t.db, carol, 1);
    expect(seller.recent[0]).toMatchObject({
      sign: 1,
      amount: 27,
      reason: 'market_sale',
      counterparty: { kind: 'user', userId: alice, name: 'user0' },
    });
    expect(seller.held).toBe(0);
  });

  it('shows the daily streak', async () => {
    await t.db
      .insertInto('daily_streaks')
      .values({ user_id: bob, current_streak: 3, best_streak: 9, last_day: '2026-11-25' })
      .execute();
    expect((await walletSummary(t.db, bob, 0)).streak).toEqual({ current: 3, best: 9 });
  });

  it('refuses unknown users, system accounts and bad limits', async () => {
    await expect(walletSummary(t.db, '987654')).rejects.toMatchObject({ code: 'unknown_user', status: 404 });
    await expect(walletSummary(t.db, SYSTEM_ACCOUNTS.mint)).rejects.toMatchObject({ code: 'unknown_user' });
    await expect(walletSummary(t.db, 'abc')).rejects.toMatchObject({ code: 'unknown_user' });
    await expect(walletSummary(t.db, alice, 26)).rejects.toMatchObject({ code: 'invalid_limit' });
    await expect(walletSummary(t.db, alice, -1)).rejects.toMatchObject({ code: 'invalid_limit' });
  });
});

describe('walletSummary under concurrency', () => {
  it('answers concurrent calls (one batch) each with its own wallet and limit, and an unknown one with 404', async () => {
    const [a, b, c] = await Promise.all([
      walletSummary(t.db, alice, 1),
      walletSummary(t.db, bob, 3),
      walletSummary(t.db, alice, 0),
    ]);
    expect(a).toEqual({ ...(await walletSummary(t.db, alice, 1)) });
    expect(a.recent).toHaveLength(1);
    expect(b).toEqual(await walletSummary(t.db, bob, 3));
    expect(b.userId).toBe(bob);
    expect(c.recent).toEqual([]);
    const mixed = await Promise.allSettled([
      walletSummary(t.db, '999999'),
      walletSummary(t.db, carol),
      walletSummary(t.db, '9999999999999999999'),
    ]);
    expect(mixed[2]).toMatchObject({ status: 'rejected', reason: { code: 'unknown_user' } });
    expect(mixed[0]).toMatchObject({ status: 'rejected', reason: { code: 'unknown_user' } });
    expect(mixed[1]).toMatchObject({ status: 'fulfilled', value: { userId: carol } });
  });
});

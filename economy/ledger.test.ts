import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  balanceOf,
  createTestDatabase,
  insertUsers,
  transferCount as countTransfers,
  type TestDatabase,
} from '../tests/helpers/db.ts';
import { Ledger, LedgerRefusal, SYSTEM_ACCOUNTS, type LedgerResult } from './ledger.ts';
import { checkLedger } from './ledger-check.ts';

let t: TestDatabase;
let ledger: Ledger;
let alice: string;
let bob: string;
let carol: string;
const clock = { now: new Date('2026-11-26T12:00:00Z') };
const inOneHour = () => new Date(clock.now.getTime() + 3_600_000);

const balance = (id: string) => balanceOf(t.db, id);
const transferCount = () => countTransfers(t.db);
const expectRefused = (r: LedgerResult, code: string) => expect(r).toMatchObject({ ok: false, code });

beforeAll(async () => {
  t = await createTestDatabase();
  ledger = new Ledger(t.db, { now: () => clock.now });
  [alice, bob, carol] = (await insertUsers(t.db, 3)).map((u) => u.id) as [string, string, string];
  await ledger.transfer({
    key: 'seed:alice',
    debit: SYSTEM_ACCOUNTS.mint,
    credit: alice,
    amount: 1000,
    reason: 'seed',
  });
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await t.drop();
});

describe('transfer', () => {
  it('moves coins and reports balances after', async () => {
    const r = await ledger.transfer({ key: 't1', debit: alice, credit: bob, amount: 100, reason: 'pay' });
    expect(r).toMatchObject({ ok: true, replayed: false, debitBalance: 900, creditBalance: 100 });
    expect(await balance(alice)).toBe(900);
    expect(await balance(bob)).toBe(100);
  });

  it('returns the first result for a retried key and moves nothing twice', async () => {
    const first = await ledger.transfer({ key: 't2', debit: alice, credit: bob, amount: 10, reason: 'pay' });
    const again = await ledger.transfer({ key: 't2', debit: alice, credit: bob, amount: 10, reason: 'pay' });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await balance(alice)).toBe(890);
  });

  it('refuses a reused key with different parameters and writes nothing', async () => {
    const before = await transferCount();
    expectRefused(
      await ledger.submit({
        op: 'transfer',
        key: 't2',
        debit: alice,
        credit: bob,
        amount: 11,
        reason: 'pay',
      }),
      'key_reused',
    );
    expect(await transferCount()).toBe(before);
  });

  it.each([
    ['zero', 0],
    ['negative', -5],
    ['fractional', 1.5],
    ['absurdly large', 1e18],
    ['not a number', Number.NaN],
  ])('refuses a %s amount and writes nothing', async (_name, amount) => {
    const before = await transferCount();
    const r = await ledger.submit({
      op: 'transfer',
      key: `bad-${amount}`,
      debit: alice,
      credit: bob,
      amount,
      reason: 'pay',
    });
    expectRefused(r, 'invalid_amount');
    expect(await transferCount()).toBe(before);
    expect(await balance(alice)).toBe(890);
  });

  it('refuses an unknown account, an empty key and a transfer to oneself', async () => {
    expectRefused(
      await ledger.submit({
        op: 'transfer',
        key: 'u1',
        debit: alice,
        credit: '999999',
        amount: 1,
        reason: 'pay',
      }),
      'unknown_account',
    );
    expectRefused(
      await ledger.submit({ op: 'transfer', key: '', debit: alice, credit: bob, amount: 1, reason: 'pay' }),
      'invalid_key',
    );
    expectRefused(
      await ledger.submit({
        op: 'transfer',
        key: 'self',
        debit: alice,
        credit: alice,
        amount: 1,
        reason: 'pay',
      }),
      'same_account',
    );
    expectRefused(
      await ledger.submit({
        op: 'transfer',
        key: 'esc',
        debit: alice,
        credit: SYSTEM_ACCOUNTS.escrow,
        amount: 1,
        reason: 'pay',
      }),
      'escrow_reserved',
    );
  });

  it('refuses insufficient funds; a wallet never goes negative', async () => {
    await expect(
      ledger.transfer({ key: 't3', debit: bob, credit: alice, amount: 1_000_000, reason: 'pay' }),
    ).rejects.toThrow(LedgerRefusal);
    expectRefused(
      await ledger.submit({
        op: 'transfer',
        key: 't3',
        debit: bob,
        credit: alice,
        amount: 1_000_000,
        reason: 'pay',
      }),
      'insufficient_funds',
    );
    expect(await balance(bob)).toBe(110);
  });

  it('lets mint go negative', async () => {
    await ledger.transfer({
      key: 'm1',
      debit: SYSTEM_ACCOUNTS.mint,
      credit: carol,
      amount: 50,
      reason: 'reward',
    });
    expect(await balance(carol)).toBe(50);
  });

  it('refuses frozen senders and receivers unless forced by an admin', async () => {
    await t.db.updateTable('users').set({ frozen: true }).where('id', '=', carol).execute();
    expectRefused(
      await ledger.submit({ op: 'transfer', key: 'f1', debit: carol, credit: bob, amount: 1, reason: 'pay' }),
      'frozen',
    );
    expectRefused(
      await ledger.submit({ op: 'transfer', key: 'f2', debit: bob, credit: carol, amount: 1, reason: 'pay' }),
      'frozen',
    );
    const forced = await ledger.transfer({
      key: 'f3',
      debit: carol,
      credit: SYSTEM_ACCOUNTS.burn,
      amount: 5,
      reason: 'admin_adjust',
      force: true,
    });
    expect(forced.debitBalance).toBe(45);
    await t.db.updateTable('users').set({ frozen: false }).where('id', '=', carol).execute();
  });
});

describe('two-phase escrow', () => {
  it('holds, then posts with a fee split to fees', async () => {
    const hold = await ledger.hold({
      key: 'h1',
      debit: alice,
      amount: 200,
      expiresAt: inOneHour(),
      reason: 'market_purchase',
    });
    expect(hold.debitBalance).toBe(690);
    const post = await ledger.post({
      key: 'p1',
      pendingId: hold.transferId,
      credit: bob,
      fee: 10,
      reason: 'market_sale',
    });
    expect(post.creditBalance).toBe(110 + 190);
    const feeRow = await t.db
      .selectFrom('transfers')
      .selectAll()
      .where('idempotency_key', '=', 'p1:fee')
      .executeTakeFirstOrThrow();
    expect(feeRow).toMatchObject({ amount: '10', credit_account_id: SYSTEM_ACCOUNTS.fees });
    expectRefused(
      await ledger.submit({ op: 'post', key: 'p1b', pendingId: hold.transferId, credit: bob, reason: 'x' }),
      'already_posted',
    );
    expectRefused(
      await ledger.submit({ op: 'void', key: 'v1b', pendingId: hold.transferId, reason: 'x' }),
      'already_voided'.replace('voided', 'posted'),
    );
  });

  it('posts part of a hold and returns the rest to the holder', async () => {
    const hold = await ledger.hold({
      key: 'h2',
      debit: alice,
      amount: 100,
      expiresAt: inOneHour(),
      reason: 'market_purchase',
    });
    await ledger.post({
      key: 'p2',
      pendingId: hold.transferId,
      credit: bob,
      amount: 60,
      fee: 3,
      reason: 'market_sale',
    });
    expect(await balance(alice)).toBe(690 - 100 + 40);
    expect(await balance(bob)).toBe(300 + 57);
  });

  it('voids a hold back to the holder, once', async () => {
    const before = await balance(alice);
    const hold = await ledger.hold({
      key: 'h3',
      debit: alice,
      amount: 30,
      expiresAt: inOneHour(),
      reason: 'market_purchase',
    });
    await ledger.void({ key: 'v3', pendingId: hold.transferId, reason: 'refund' });
    const again = await ledger.void({ key: 'v3', pendingId: hold.transferId, reason: 'refund' });
    expect(again.replayed).toBe(true);
    expectRefused(
      await ledger.submit({ op: 'void', key: 'v3-other', pendingId: hold.transferId, reason: 'refund' }),
      'already_voided',
    );
    expectRefused(
      await ledger.submit({ op: 'post', key: 'p3', pendingId: hold.transferId, credit: bob, reason: 'sale' }),
      'already_voided',
    );
    expect(await balance(alice)).toBe(before);
  });

  it('refuses to post an expired hold but still voids it', async () => {
    const hold = await ledger.hold({
      key: 'h4',
      debit: alice,
      amount: 5,
      expiresAt: new Date(clock.now.getTime() + 1000),
      reason: 'market_purchase',
    });
    clock.now = new Date(clock.now.getTime() + 2000);
    expectRefused(
      await ledger.submit({ op: 'post', key: 'p4', pendingId: hold.transferId, credit: bob, reason: 'sale' }),
      'expired',
    );
    await ledger.void({ key: 'v4', pendingId: hold.transferId, reason: 'expired' });
  });

  it('refuses a fee that is not smaller than the amount, and holds beyond the balance', async () => {
    const hold = await ledger.hold({
      key: 'h5',
      debit: alice,
      amount: 10,
      expiresAt: inOneHour(),
      reason: 'market_purchase',
    });
    expectRefused(
      await ledger.submit({
        op: 'post',
        key: 'p5',
        pendingId: hold.transferId,
        credit: bob,
        amount: 10,
        fee: 10,
        reason: 'sale',
      }),
      'invalid_fee',
    );
    expectRefused(
      await ledger.submit({
        op: 'post',
        key: 'p5b',
        pendingId: hold.transferId,
        credit: bob,
        amount: 11,
        reason: 'sale',
      }),
      'exceeds_hold',
    );
    expectRefused(
      await ledger.submit({
        op: 'hold',
        key: 'h6',
        debit: carol,
        amount: 1_000_000,
        expiresAt: inOneHour(),
        reason: 'x',
      }),
      'insufficient_funds',
    );
    await ledger.void({ key: 'v5', pendingId: hold.transferId, reason: 'refund' });
  });
});

describe('reverse', () => {
  it('compensates a transfer, never beyond its amount', async () => {
    const paid = await ledger.transfer({
      key: 'r-orig',
      debit: alice,
      credit: bob,
      amount: 40,
      reason: 'pay',
    });
    await ledger.reverse({
      key: 'r1',
      reverses: paid.transferId,
      debit: bob,
      credit: alice,
      amount: 30,
      reason: 'refund',
    });
    expectRefused(
      await ledger.submit({
        op: 'transfer',
        key: 'r2',
        reverses: paid.transferId,
        debit: bob,
        credit: alice,
        amount: 11,
        reason: 'refund',
        force: true,
      }),
      'exceeds_reversible',
    );
    await ledger.reverse({
      key: 'r3',
      reverses: paid.transferId,
      debit: bob,
      credit: alice,
      amount: 10,
      reason: 'refund',
    });
  });
});

describe('permanence', () => {
  it('refuses to delete or truncate transfers and accounts', async () => {
    await expect(t.db.deleteFrom('transfers').where('idempotency_key', '=', 't1').execute()).rejects.toThrow(
      /never deleted/,
    );
    await expect(t.db.deleteFrom('accounts').where('id', '=', carol).execute()).rejects.toThrow(
      /never deleted/,
    );
  });
});

describe('ledger check', () => {
  it('reports a consistent ledger, then catches a tampered balance', async () => {
    const good = await checkLedger(t.db);
    expect(good).toMatchObject({ ok: true, sum: '0', negative_wallets: 0, wallet_mismatches: 0 });
    await t.db.updateTable('accounts').set({ balance: 1 }).where('id', '=', carol).execute();
    const bad = await checkLedger(t.db);
    expect(bad.ok).toBe(false);
    expect(bad.wallet_mismatches).toBe(1);
    expect(bad.sum).not.toBe('0');
    await t.db.updateTable('accounts').set({ balance: 45 }).where('id', '=', carol).execute();
  });
});

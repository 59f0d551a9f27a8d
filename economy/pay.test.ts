import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  balanceOf,
  createTestDatabase,
  fundWallets,
  insertUsers,
  transferCount as countTransfers,
  type TestDatabase,
} from '../tests/helpers/db.ts';
import { AppError } from './errors.ts';
import { checkLedger } from './ledger-check.ts';
import { Ledger, LedgerRefusal, SYSTEM_ACCOUNTS } from './ledger.ts';
import { paidToday, payUser, PAY_NOTE_MAX, type PayRequest } from './pay.ts';

let t: TestDatabase;
let ledger: Ledger;
let ids: string[];
const now = new Date('2026-11-26T12:00:00Z');

beforeAll(async () => {
  t = await createTestDatabase();
  ledger = new Ledger(t.db, { now: () => now });
  ids = (await insertUsers(t.db, 10, 600_000_000_000_000_000n)).map((u) => u.id);
  await fundWallets(ledger, ids, 5000);
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await t.drop();
});

let seq = 0;
const pay = (from: string, to: string, amount: number, extra: Partial<PayRequest> = {}) =>
  payUser(t.db, {
    key: `pay:${++seq}`,
    fromUserId: from,
    toUserId: to,
    amount,
    dailyLimit: 1000,
    timeZone: 'UTC',
    now,
    ...extra,
  });
const balance = (id: string) => balanceOf(t.db, id);
const transferCount = () => countTransfers(t.db);

describe('payUser', () => {
  it('moves coins with reason pay and the note as memo', async () => {
    const [a, b] = [ids[0]!, ids[1]!];
    const r = await pay(a, b, 300, { note: '  thanks for the diamonds ' });
    expect(r).toEqual({
      transferId: expect.any(String),
      replayed: false,
      fromBalance: 4700,
      toBalance: 5300,
      paidToday: 300,
    });
    expect(
      await t.db.selectFrom('transfers').selectAll().where('id', '=', r.transferId).executeTakeFirstOrThrow(),
    ).toMatchObject({
      debit_account_id: a,
      credit_account_id: b,
      amount: '300',
      reason: 'pay',
      memo: 'thanks for the diamonds',
    });
    expect(await paidToday(t.db, a, 'UTC', now)).toBe(300);
    expect(await paidToday(t.db, b, 'UTC', now)).toBe(0);
  });

  it('allows exactly the limit and refuses one coin more, saying what is left', async () => {
    const [a, b] = [ids[0]!, ids[2]!];
    expect((await pay(a, b, 700)).paidToday).toBe(1000);
    const before = await transferCount();
    const err = await pay(a, b, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      code: 'pay_limit',
      status: 409,
      message: 'You can send up to 1,000 coins a day with /pay; 0 left today.',
      details: { limit: 1000, left: 0, paidToday: 1000, resetsAt: new Date('2026-11-27T00:00:00Z') },
    });
    expect(await transferCount()).toBe(before);
    expect(await balance(a)).toBe(4000);
  });

  it('says what is left when a payment would cross the limit', async () => {
    const [a, b] = [ids[3]!, ids[4]!];
    await pay(a, b, 600);
    await expect(pay(a, b, 401)).rejects.toMatchObject({
      code: 'pay_limit',
      message: 'You can send up to 1,000 coins a day with /pay; 400 left today.',
    });
    expect((await pay(a, b, 400)).paidToday).toBe(1000);
  });

  it('starts a new allowance when the local day changes', async () => {
    const [a, b] = [ids[0]!, ids[2]!];
    const tomorrow = new Date('2026-11-27T00:00:00Z');
    expect(await paidToday(t.db, a, 'UTC', tomorrow)).toBe(0);
    const r = await pay(a, b, 1000, { now: tomorrow });
    expect(r.paidToday).toBe(1000);
    // In Tokyo both payments fall on 2026-11-27 (09:00 local) and 2026-11-26 21:00 local.
    expect(await paidToday(t.db, a, 'Asia/Tokyo', tomorrow)).toBe(1000);
    expect(await paidToday(t.db, a, 'Asia/Tokyo', now)).toBe(1000);
  });

  it('never exceeds the limit when concurrent payments race for it', async () => {
    const [a, b, c] = [ids[5]!, ids[6]!, ids[7]!];
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => pay(a, i % 2 ? b : c, 70)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(14);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'pay_limit' });
    expect(await paidToday(t.db, a, 'UTC', now)).toBe(980);
    expect(await balance(a)).toBe(5000 - 980);
    const totals = (ok as PromiseFulfilledResult<{ paidToday: number }>[])
      .map((r) => r.value.paidToday)
      .sort((x, y) => x - y);
    expect(totals).toEqual(Array.from({ length: 14 }, (_, i) => 70 * (i + 1)));
  });

  it('does not deadlock when two users pay each other concurrently', async () => {
    const [a, b] = [ids[8]!, ids[9]!];
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? pay(a, b, 10) : pay(b, a, 10))));
    expect(await balance(a)).toBe(5000);
    expect(await balance(b)).toBe(5000);
  });

  it('returns the first result for the same key without counting it twice', async () => {
    const [a, b] = [ids[3]!, ids[1]!];
    const limit = { dailyLimit: 2000 };
    const first = await pay(a, b, 250, { key: 'interaction:777', ...limit });
    const again = await pay(a, b, 250, { key: 'interaction:777', ...limit });
    expect(again).toEqual({ ...first, replayed: true });
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => pay(a, b, 250, { key: 'interaction:778', ...limit })),
    );
    expect(racing.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(racing.map((r) => r.transferId)).size).toBe(1);
    expect(await paidToday(t.db, a, 'UTC', now)).toBe(1500);
    // A replay is answered even after the limit is used up, with the total as it was then.
    const lateReplay = await pay(a, b, 250, { key: 'interaction:777', dailyLimit: 1 });
    expect(lateReplay).toEqual({ ...first, replayed: true });
    await expect(pay(a, b, 251, { key: 'interaction:777', ...limit })).rejects.toMatchObject({
      code: 'key_reused',
    });
  });

  it('refuses paying yourself, bad amounts, bad notes and unknown users, writing nothing', async () => {
    const [a, b] = [ids[0]!, ids[1]!];
    const before = await transferCount();
    await expect(pay(a, a, 10)).rejects.toMatchObject({ code: 'pay_self' });
    for (const amount of [0, -5, 1.5, Number.NaN, 2 ** 60])
      await expect(pay(a, b, amount)).rejects.toMatchObject({ code: 'invalid_amount' });
    await expect(pay(a, b, 1, { note: 'x'.repeat(PAY_NOTE_MAX + 1) })).rejects.toMatchObject({
      code: 'invalid_note',
    });
    await expect(pay(a, '424242', 10)).rejects.toMatchObject({ code: 'unknown_account' });
    await expect(pay(a, SYSTEM_ACCOUNTS.burn, 10)).rejects.toMatchObject({ code: 'unknown_account' });
    await expect(pay(a, b, 1, { dailyLimit: -1 })).rejects.toMatchObject({ code: 'invalid_pay_limit' });
    await expect(pay(a, b, 1, { dailyLimit: 0 })).rejects.toMatchObject({
      code: 'pay_disabled',
      status: 403,
    });
    await expect(pay(a, b, 1, { timeZone: 'Moon/Base' })).rejects.toMatchObject({
      code: 'invalid_time_zone',
    });
    expect(await transferCount()).toBe(before);
  });

  it('refuses a payment larger than the balance with a ledger refusal', async () => {
    const [a, b] = [ids[4]!, ids[2]!];
    const have = await balance(a);
    const paid = await paidToday(t.db, a, 'UTC', now);
    const err = await pay(a, b, have + 1, { dailyLimit: 1_000_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerRefusal);
    expect(err).toMatchObject({ refusal: 'insufficient_funds', status: 409 });
    expect(await balance(a)).toBe(have);
    expect(await paidToday(t.db, a, 'UTC', now)).toBe(paid);
  });

  it('refuses frozen senders and receivers', async () => {
    const [a, b] = [ids[6]!, ids[7]!];
    await t.db.updateTable('users').set({ frozen: true }).where('id', '=', a).execute();
    await expect(pay(a, b, 5)).rejects.toMatchObject({ refusal: 'frozen' });
    await expect(pay(b, a, 5)).rejects.toMatchObject({ refusal: 'frozen' });
    await t.db.updateTable('users').set({ frozen: false }).where('id', '=', a).execute();
    expect((await pay(b, a, 5)).replayed).toBe(false);
  });
});

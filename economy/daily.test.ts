import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, insertUsers, type TestDatabase } from '../tests/helpers/db.ts';
import { claimDaily, dailyReward, type DailyRules } from './daily.ts';
import { checkLedger } from './ledger-check.ts';
import { SYSTEM_ACCOUNTS } from './ledger.ts';

let t: TestDatabase;
let users: string[];
const rules: DailyRules = { base: 100, streakBonus: 10, streakCap: 3, timeZone: 'UTC' };
const day = (date: string, time = '12:00:00') => new Date(`${date}T${time}Z`);

beforeAll(async () => {
  t = await createTestDatabase();
  users = (await insertUsers(t.db, 8, 400_000_000_000_000_000n)).map((u) => u.id);
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await t.drop();
});

const balance = async (id: string) =>
  Number(
    (await t.db.selectFrom('accounts').select('balance').where('id', '=', id).executeTakeFirstOrThrow())
      .balance,
  );
const claims = (userId: string) =>
  t.db
    .selectFrom('daily_claims')
    .select(['day', 'amount', 'streak', 'transfer_id'])
    .where('user_id', '=', userId)
    .orderBy('day')
    .execute();

describe('dailyReward', () => {
  it('adds the bonus per consecutive day up to the cap', () => {
    expect([1, 2, 3, 4, 5, 30].map((s) => dailyReward(rules, s))).toEqual([100, 110, 120, 130, 130, 130]);
  });
});

describe('claimDaily', () => {
  it('pays the base on the first claim, through the ledger, and says when the next one opens', async () => {
    const u = users[0]!;
    const r = await claimDaily(t.db, u, rules, day('2026-11-26', '08:30:00'));
    expect(r).toEqual({
      claimed: true,
      amount: 100,
      streak: 1,
      bestStreak: 1,
      balance: 100,
      nextClaimAt: new Date('2026-11-27T00:00:00Z'),
    });
    const transfer = await t.db
      .selectFrom('transfers')
      .selectAll()
      .where('idempotency_key', '=', `daily:${u}:2026-11-26`)
      .executeTakeFirstOrThrow();
    expect(transfer).toMatchObject({
      debit_account_id: SYSTEM_ACCOUNTS.mint,
      credit_account_id: u,
      amount: '100',
      reason: 'daily',
    });
    expect(await claims(u)).toEqual([
      { day: expect.any(Date), amount: '100', streak: 1, transfer_id: transfer.id },
    ]);
  });

  it('answers claimed:false for a second claim the same day and moves nothing', async () => {
    const u = users[0]!;
    const r = await claimDaily(t.db, u, rules, day('2026-11-26', '23:59:59'));
    expect(r).toEqual({
      claimed: false,
      streak: 1,
      bestStreak: 1,
      nextClaimAt: new Date('2026-11-27T00:00:00Z'),
    });
    expect(await balance(u)).toBe(100);
  });

  it('continues the streak on consecutive days, caps the bonus, resets after a missed day and keeps the best', async () => {
    const u = users[1]!;
    const amounts: number[] = [];
    const streaks: number[] = [];
    for (const date of ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06']) {
      const r = await claimDaily(t.db, u, rules, day(date, '00:00:00'));
      if (!r.claimed) throw new Error(`not claimed on ${date}`);
      amounts.push(r.amount);
      streaks.push(r.streak);
    }
    expect(streaks).toEqual([1, 2, 3, 4, 5, 6]);
    expect(amounts).toEqual([100, 110, 120, 130, 130, 130]);

    // 2026-03-07 missed.
    const reset = await claimDaily(t.db, u, rules, day('2026-03-08'));
    expect(reset).toMatchObject({ claimed: true, amount: 100, streak: 1, bestStreak: 6 });
    const next = await claimDaily(t.db, u, rules, day('2026-03-09', '23:59:59'));
    expect(next).toMatchObject({ claimed: true, amount: 110, streak: 2, bestStreak: 6 });
    expect(await balance(u)).toBe(720 + 100 + 110);
    expect((await claims(u)).map((c) => c.streak)).toEqual([1, 2, 3, 4, 5, 6, 1, 2]);
    expect(
      await t.db.selectFrom('daily_streaks').selectAll().where('user_id', '=', u).executeTakeFirstOrThrow(),
    ).toMatchObject({ current_streak: 2, best_streak: 6 });
  });

  it('uses local days of the configured zone, across a DST switch', async () => {
    const u = users[2]!;
    const berlin = { ...rules, timeZone: 'Europe/Berlin' };
    // 2026-03-28 23:30 Berlin (+01) and 2026-03-29 23:30 Berlin (+02): consecutive local days.
    const first = await claimDaily(t.db, u, berlin, new Date('2026-03-28T22:30:00Z'));
    expect(first).toMatchObject({ claimed: true, streak: 1, nextClaimAt: new Date('2026-03-28T23:00:00Z') });
    const early = await claimDaily(t.db, u, berlin, new Date('2026-03-28T22:59:59Z'));
    expect(early).toMatchObject({ claimed: false, nextClaimAt: new Date('2026-03-28T23:00:00Z') });
    const second = await claimDaily(t.db, u, berlin, new Date('2026-03-29T21:30:00Z'));
    expect(second).toMatchObject({ claimed: true, streak: 2, nextClaimAt: new Date('2026-03-29T22:00:00Z') });
    const third = await claimDaily(t.db, u, berlin, new Date('2026-03-29T22:00:00Z'));
    expect(third).toMatchObject({ claimed: true, streak: 3 });
  });

  it('gives exactly one claim to 20 parallel calls and 19 clean refusals', async () => {
    const u = users[3]!;
    const now = day('2026-11-26');
    const results = await Promise.all(Array.from({ length: 20 }, () => claimDaily(t.db, u, rules, now)));
    const claimed = results.filter((r) => r.claimed);
    expect(claimed).toHaveLength(1);
    expect(results.filter((r) => !r.claimed)).toHaveLength(19);
    for (const r of results.filter((r) => !r.claimed))
      expect(r).toEqual({
        claimed: false,
        streak: 1,
        bestStreak: 1,
        nextClaimAt: new Date('2026-11-27T00:00:00Z'),
      });
    expect(await balance(u)).toBe(100);
    expect(await claims(u)).toHaveLength(1);
    const transfers = await t.db
      .selectFrom('transfers')
      .select('id')
      .where('credit_account_id', '=', u)
      .execute();
    expect(transfers).toHaveLength(1);
  });

  it('keeps 20 parallel claims of different users independent', async () => {
    const others = users.slice(4, 8);
    const now = day('2026-11-26');
    const results = await Promise.all(
      others.flatMap((u) => Array.from({ length: 5 }, () => claimDaily(t.db, u, rules, now))),
    );
    expect(results.filter((r) => r.claimed)).toHaveLength(4);
    for (const u of others) expect(await balance(u)).toBe(100);
  });

  it('refuses a frozen user and writes nothing', async () => {
    const u = users[4]!;
    await t.db
      .updateTable('users')
      .set({ frozen: true, frozen_reason: 'test' })
      .where('id', '=', u)
      .execute();
    await expect(claimDaily(t.db, u, rules, day('2026-11-27'))).rejects.toMatchObject({
      name: 'AppError',
      code: 'frozen',
    });
    expect(await balance(u)).toBe(100);
    expect(await claims(u)).toHaveLength(1);
    await t.db.updateTable('users').set({ frozen: false, frozen_reason: null }).where('id', '=', u).execute();
    expect(await claimDaily(t.db, u, rules, day('2026-11-27'))).toMatchObject({ claimed: true, streak: 2 });
  });

  it('refuses a frozen user on their very first claim', async () => {
    const [fresh] = await insertUsers(t.db, 1, 400_000_000_000_000_100n);
    await t.db.updateTable('users').set({ frozen: true }).where('id', '=', fresh!.id).execute();
    await expect(claimDaily(t.db, fresh!.id, rules, day('2026-11-27'))).rejects.toMatchObject({
      code: 'frozen',
    });
    expect(await claims(fresh!.id)).toEqual([]);
    expect(await balance(fresh!.id)).toBe(0);
  });

  it('answers a burst of many users at once (shared transactions) each on its own: paid, frozen, unknown', async () => {
    const burst = (await insertUsers(t.db, 40, 400_000_000_000_000_200n)).map((u) => u.id);
    await t.db.updateTable('users').set({ frozen: true }).where('id', '=', burst[7]!).execute();
    const now = day('2026-11-28');
    const results = await Promise.allSettled([
      ...burst.map((u) => claimDaily(t.db, u, rules, now)),
      claimDaily(t.db, '999998', rules, now),
    ]);
    results.forEach((r, i) => {
      if (i === 7) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'frozen' } });
      else if (i === burst.length)
        expect(r).toMatchObject({ status: 'rejected', reason: { code: 'unknown_user' } });
      else
        expect(r).toMatchObject({ status: 'fulfilled', value: { claimed: true, amount: 100, balance: 100 } });
    });
    for (const [i, u] of burst.entries()) expect(await claims(u)).toHaveLength(i === 7 ? 0 : 1);
    const streakRows = await t.db
      .selectFrom('daily_streaks')
      .select('user_id')
      .where('user_id', 'in', [burst[7]!, '999998'])
      .execute();
    expect(streakRows).toEqual([]);
  });

  it('refuses an unknown user and bad rules with clear errors', async () => {
    await expect(claimDaily(t.db, '999999', rules, day('2026-11-26'))).rejects.toMatchObject({
      code: 'unknown_user',
    });
    await expect(
      claimDaily(t.db, users[5]!, { ...rules, base: -1 }, day('2026-11-30')),
    ).rejects.toMatchObject({
      code: 'invalid_daily_rules',
    });
    await expect(
      claimDaily(t.db, users[5]!, { ...rules, timeZone: 'Nowhere/Land' }, day('2026-11-30')),
    ).rejects.toMatchObject({
      code: 'invalid_time_zone',
    });
    expect(await claims(users[5]!)).toHaveLength(1);
    expect(
      await t.db.selectFrom('daily_streaks').select('user_id').where('user_id', '=', '999999').execute(),
    ).toEqual([]);
  });

  it('records a streak without a transfer when the reward is 0 coins', async () => {
    const u = users[6]!;
    const free = { ...rules, base: 0 };
    const first = await claimDaily(t.db, u, free, day('2026-12-01'));
    expect(first).toMatchObject({ claimed: true, amount: 0, streak: 1, balance: 100 });
    expect((await claims(u)).at(-1)).toMatchObject({ amount: '0', streak: 1, transfer_id: null });
    const second = await claimDaily(t.db, u, free, day('2026-12-02'));
    expect(second).toMatchObject({ claimed: true, amount: 10, streak: 2, balance: 110 });
    expect(await claimDaily(t.db, u, free, day('2026-12-02'))).toMatchObject({ claimed: false, streak: 2 });
  });

  it('keeps the mint, the wallets and the claims in balance', async () => {
    const report = await checkLedger(t.db);
    expect(report.ok).toBe(true);
    const total = await t.db
      .selectFrom('daily_claims')
      .select((eb) => eb.fn.sum<string>('amount').as('s'))
      .executeTakeFirstOrThrow();
    const wallets = await t.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.sum<string>('balance').as('s'))
      .where('kind', '=', 'user')
      .executeTakeFirstOrThrow();
    expect(wallets.s).toBe(total.s);
  });
});

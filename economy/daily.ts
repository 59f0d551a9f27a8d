import { sql } from 'kysely';
import { transact, type Db, type Tx } from '../db/client.ts';
import { AppError } from './errors.ts';
import { applyInTransaction, LedgerRefusal, MAX_AMOUNT, SYSTEM_ACCOUNTS } from './ledger.ts';
import { addDays, assertTimeZone, dayOf, nextDayStart, startOfDate } from './time.ts';

export interface DailyRules {
  /** Coins for a claim without a streak. */
  base: number;
  /** Extra coins per consecutive day after the first. */
  streakBonus: number;
  /** The most streak days that earn a bonus. */
  streakCap: number;
  /** IANA zone whose local days are the claim windows. */
  timeZone: string;
}

export type DailyResult =
  | { claimed: true; amount: number; streak: number; bestStreak: number; balance: number; nextClaimAt: Date }
  | { claimed: false; streak: number; bestStreak: number; nextClaimAt: Date };

/** The reward for the `streak`-th consecutive day. */
export function dailyReward(rules: DailyRules, streak: number): number {
  return rules.base + rules.streakBonus * Math.min(streak - 1, rules.streakCap);
}

function checkRules(rules: DailyRules): void {
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!whole(rules.base) || !whole(rules.streakBonus) || !whole(rules.streakCap))
    throw new AppError(
      'invalid_daily_rules',
      'Daily base, bonus and cap must be whole numbers of coins, 0 or more.',
    );
  if (rules.base + rules.streakBonus * rules.streakCap > MAX_AMOUNT)
    throw new AppError('invalid_daily_rules', 'The daily reward cannot exceed the largest transfer.');
  assertTimeZone(rules.timeZone);
}

interface StreakState {
  frozen: boolean;
  current_streak: number;
  best_streak: number;
  last_day: string | null;
}

/**
 * Locks the user's streak row, creating it on the first claim. Locking the row itself (not the user) matters:
 * under READ COMMITTED a claim that waited for another one reads the locked row as that claim left it.
 */
async function lockStreak(trx: Tx, userId: string): Promise<StreakState> {
  const { rows } = await sql<StreakState>`
    select u.frozen, s.current_streak, s.best_streak, to_char(s.last_day, 'YYYY-MM-DD') as last_day
    from daily_streaks s join users u on u.id = s.user_id
    where s.user_id = ${userId}
    for no key update of s`.execute(trx);
  if (rows[0]) return rows[0];
  // First claim: create and lock in one statement. A racing first claim makes this wait for it and then
  // lock the row as it left it (the no-op update is what takes the lock and returns the current row).
  const { rows: created } = await sql<StreakState>`
    insert into daily_streaks as s (user_id) select id from users where id = ${userId}
    on conflict (user_id) do update set user_id = s.user_id
    returning (select frozen from users where id = ${userId}) as frozen, s.current_streak, s.best_streak,
              to_char(s.last_day, 'YYYY-MM-DD') as last_day`.execute(trx);
  if (created[0]) return created[0];
  throw new AppError('unknown_user', 'That user does not exist.', 404);
}

/** Moves the reward from mint to the wallet inside the claim's transaction. */
async function mintReward(trx: Tx, userId: string, day: string, streak: number, amount: number, now: Date) {
  const [result] = await applyInTransaction(
    trx,
    [
      {
        op: 'transfer',
        key: `daily:${userId}:${day}`,
        debit: SYSTEM_ACCOUNTS.mint,
        credit: userId,
        amount,
        reason: 'daily',
        ref: { day, streak },
        actor: userId,
      },
    ],
    now,
  );
  if (!result!.ok) throw new LedgerRefusal(result!.code);
  return { transferId: result!.transferId, balance: result!.creditBalance! };
}

async function walletBalance(trx: Tx, userId: string): Promise<number> {
  const row = await trx.selectFrom('accounts').select('balance').where('id', '=', userId).executeTakeFirst();
  return Number(row?.balance ?? 0);
}

/**
 * Claims the daily reward of the local day of `now`. The user's streak row is locked for the claim, so a double
 * click, a retried interaction or parallel calls find the first claim and answer `claimed: false`; the
 * (user_id, day) key and the ledger key `daily:<userId>:<day>` make a second claim impossible regardless.
 * With a base of 0 the first day's claim pays nothing (no transfer) but still starts the streak.
 */
export async function claimDaily(db: Db, userId: string, rules: DailyRules, now: Date): Promise<DailyResult> {
  checkRules(rules);
  const today = dayOf(now, rules.timeZone);
  return transact(db, async (trx) => {
    const state = await lockStreak(trx, userId);
    if (state.frozen)
      throw new AppError('frozen', 'Your wallet is frozen; you cannot claim the daily reward.', 403);

    const current = state.current_streak;
    const best = state.best_streak;
    if (state.last_day !== null && state.last_day >= today) {
      return {
        claimed: false,
        streak: current,
        bestStreak: best,
        nextClaimAt: startOfDate(addDays(state.last_day, 1), rules.timeZone),
      };
    }

    const streak = state.last_day === addDays(today, -1) ? current + 1 : 1;
    const bestStreak = Math.max(best, streak);
    const amount = dailyReward(rules, streak);
    const credited = amount > 0 ? await mintReward(trx, userId, today, streak, amount, now) : null;
    await sql`
      with claim as (
        insert into daily_claims (user_id, day, amount, streak, transfer_id, claimed_at)
        values (${userId}, ${today}, ${amount}, ${streak}, ${credited?.transferId ?? null}, ${now})
      )
      update daily_streaks set current_streak = ${streak}, best_streak = ${bestStreak}, last_day = ${today}
      where user_id = ${userId}`.execute(trx);
    return {
      claimed: true,
      amount,
      streak,
      bestStreak,
      balance: credited ? credited.balance : await walletBalance(trx, userId),
      nextClaimAt: nextDayStart(now, rules.timeZone),
    };
  });
}

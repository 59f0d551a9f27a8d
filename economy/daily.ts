import { sql } from 'kysely';
import type { Db, Tx } from '../db/client.ts';
import { AppError } from './errors.ts';
import { distinctBy, RequestFailed, TxBatcher, type Outcome } from './batcher.ts';
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

interface ClaimRequest {
  userId: string;
  rules: DailyRules;
  now: Date;
  /** The local day of `now` in the rules' zone. */
  today: string;
}

interface StreakRow {
  user_id: string;
  current_streak: number;
  best_streak: number;
  last_day: string | null;
}

const refuse = (error: AppError): Outcome<DailyResult> => ({ ok: false, error });

/**
 * Claims of one batch (distinct users) in one transaction. Each user's streak row is locked, or created and
 * locked, by one upsert in user-id order, which returns the row as the last committed claim left it; the rewards
 * are one ledger call; the claims and streaks are one statement. A reward the ledger refuses fails the batch,
 * which then runs each claim alone so that the refusal reaches its caller and nothing of it is written.
 */
async function claimBatch(trx: Tx, reqs: ClaimRequest[]): Promise<Outcome<DailyResult>[]> {
  const ids = reqs.map((r) => r.userId);
  // Frozen users are left out: their claim is refused and writes nothing, not even a streak row.
  const { rows } = await sql<StreakRow>`
    insert into daily_streaks as s (user_id)
    select u.id from users u where u.id = any(${ids}::bigint[]) and not u.frozen order by u.id
    on conflict (user_id) do update set user_id = s.user_id
    returning s.user_id, s.current_streak, s.best_streak, to_char(s.last_day, 'YYYY-MM-DD') as last_day`.execute(
    trx,
  );
  const streaks = new Map(rows.map((r) => [String(r.user_id), r]));
  const absent = ids.filter((id) => !streaks.has(id));
  const frozen = new Set(
    absent.length === 0
      ? []
      : (await trx.selectFrom('users').select('id').where('id', 'in', absent).execute()).map((u) =>
          String(u.id),
        ),
  );

  const out: Outcome<DailyResult>[] = [];
  const claims: { i: number; streak: number; bestStreak: number; amount: number }[] = [];
  reqs.forEach((r, i) => {
    const state = streaks.get(r.userId);
    if (!state) {
      out[i] = frozen.has(r.userId)
        ? refuse(new AppError('frozen', 'Your wallet is frozen; you cannot claim the daily reward.', 403))
        : refuse(new AppError('unknown_user', 'That user does not exist.', 404));
      return;
    }
    if (state.last_day !== null && state.last_day >= r.today) {
      out[i] = {
        ok: true,
        value: {
          claimed: false,
          streak: state.current_streak,
          bestStreak: state.best_streak,
          nextClaimAt: startOfDate(addDays(state.last_day, 1), r.rules.timeZone),
        },
      };
      return;
    }
    const streak = state.last_day === addDays(r.today, -1) ? state.current_streak + 1 : 1;
    claims.push({
      i,
      streak,
      bestStreak: Math.max(state.best_streak, streak),
      amount: dailyReward(r.rules, streak),
    });
  });
  if (claims.length === 0) return out;

  const paid = claims.filter((c) => c.amount > 0);
  const results = await applyInTransaction(
    trx,
    paid.map(({ i, streak, amount }) => {
      const r = reqs[i]!;
      return {
        op: 'transfer' as const,
        key: `daily:${r.userId}:${r.today}`,
        debit: SYSTEM_ACCOUNTS.mint,
        credit: r.userId,
        amount,
        reason: 'daily',
        ref: { day: r.today, streak },
        actor: r.userId,
      };
    }),
    reqs[0]!.now,
  );
  const credited = new Map<number, { transferId: string; balance: number }>();
  paid.forEach((c, k) => {
    const res = results[k]!;
    if (!res.ok) throw new RequestFailed(new LedgerRefusal(res.code));
    credited.set(c.i, { transferId: res.transferId, balance: res.creditBalance! });
  });

  const col = <T>(f: (c: (typeof claims)[number], r: ClaimRequest) => T) =>
    claims.map((c) => f(c, reqs[c.i]!));
  await sql`
    with v as (
      select * from unnest(${col((_, r) => r.userId)}::bigint[], ${col((_, r) => r.today)}::date[],
                           ${col((c) => c.amount)}::bigint[], ${col((c) => c.streak)}::int[],
                           ${col((c) => c.bestStreak)}::int[], ${col((c) => credited.get(c.i)?.transferId ?? null)}::bigint[],
                           ${col((_, r) => r.now.toISOString())}::timestamptz[])
        as v(user_id, day, amount, streak, best_streak, transfer_id, claimed_at)
    ), claim as (
      insert into daily_claims (user_id, day, amount, streak, transfer_id, claimed_at)
      select user_id, day, amount, streak, transfer_id, claimed_at from v
    )
    update daily_streaks s set current_streak = v.streak, best_streak = v.best_streak, last_day = v.day
    from v where s.user_id = v.user_id`.execute(trx);

  const unpaid = claims.filter((c) => c.amount === 0).map((c) => reqs[c.i]!.userId);
  const balances = new Map(
    unpaid.length === 0
      ? []
      : (await trx.selectFrom('accounts').select(['id', 'balance']).where('id', 'in', unpaid).execute()).map(
          (a) => [String(a.id), Number(a.balance)],
        ),
  );
  for (const c of claims) {
    const r = reqs[c.i]!;
    out[c.i] = {
      ok: true,
      value: {
        claimed: true,
        amount: c.amount,
        streak: c.streak,
        bestStreak: c.bestStreak,
        balance: credited.get(c.i)?.balance ?? balances.get(r.userId) ?? 0,
        nextClaimAt: nextDayStart(r.now, r.rules.timeZone),
      },
    };
  }
  return out;
}

const batchers = new WeakMap<Db, TxBatcher<ClaimRequest, DailyResult>>();

/**
 * Claims the daily reward of the local day of `now`. The user's streak row is locked for the claim, so a double
 * click, a retried interaction or parallel calls find the first claim and answer `claimed: false`; the
 * (user_id, day) key and the ledger key `daily:<userId>:<day>` make a second claim impossible regardless.
 * With a base of 0 the first day's claim pays nothing (no transfer) but still starts the streak. Concurrent
 * claims of different users share one transaction (a morning rush pays one commit per batch, not per claim);
 * claims of one user never share a batch.
 */
export async function claimDaily(db: Db, userId: string, rules: DailyRules, now: Date): Promise<DailyResult> {
  checkRules(rules);
  if (!/^[0-9]{1,18}$/.test(userId)) throw new AppError('unknown_user', 'That user does not exist.', 404);
  let batcher = batchers.get(db);
  if (!batcher) {
    batcher = new TxBatcher(
      db,
      claimBatch,
      distinctBy((r) => r.userId),
      { maxInFlight: 2 },
    );
    batchers.set(db, batcher);
  }
  return batcher.submit({ userId, rules, now, today: dayOf(now, rules.timeZone) });
}

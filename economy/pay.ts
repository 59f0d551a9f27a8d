import { sql } from 'kysely';
import { transact, type Db, type Tx } from '../db/client.ts';
import { AppError } from './errors.ts';
import { formatNumber } from '../config/numbers.ts';
import { notEnoughCoins } from './words.ts';
import { applyInTransaction, LedgerRefusal, MAX_AMOUNT } from './ledger.ts';
import { assertTimeZone, dayStart, nextDayStart } from './time.ts';

/** The longest note a payment may carry. */
export const PAY_NOTE_MAX = 200;

export interface PayRequest {
  /** Idempotency key of the cause (the confirming interaction's id). */
  key: string;
  fromUserId: string;
  toUserId: string;
  amount: number;
  note?: string;
  /** Most coins a user may send with /pay per local day; 0 turns /pay off. */
  dailyLimit: number;
  timeZone: string;
  now: Date;
}

export interface PayResult {
  transferId: string;
  /** True when `key` had already paid and this is the first result again. */
  replayed: boolean;
  fromBalance: number;
  toBalance: number;
  /** Coins the sender had sent with /pay in that day, this payment included. */
  paidToday: number;
}

const ACCOUNT_ID = /^[0-9]{1,19}$/;

function checkRequest(req: PayRequest): void {
  if (!ACCOUNT_ID.test(req.fromUserId) || !ACCOUNT_ID.test(req.toUserId))
    throw new LedgerRefusal('unknown_account');
  if (req.fromUserId === req.toUserId) throw new AppError('pay_self', 'You cannot pay yourself.');
  if (!Number.isSafeInteger(req.amount) || req.amount <= 0 || req.amount > MAX_AMOUNT)
    throw new LedgerRefusal('invalid_amount');
  if (req.note !== undefined && req.note.length > PAY_NOTE_MAX)
    throw new AppError('invalid_note', `A note can be at most ${PAY_NOTE_MAX} characters.`);
  if (!Number.isSafeInteger(req.dailyLimit) || req.dailyLimit < 0)
    throw new AppError(
      'invalid_pay_limit',
      'The daily pay limit must be a whole number of coins, 0 or more.',
    );
  if (req.dailyLimit === 0)
    throw new AppError('pay_disabled', 'Paying other players is turned off on this server.', 403);
  assertTimeZone(req.timeZone);
}

/** Coins `userId` sent with /pay between `from` (inclusive) and `to`, up to and including transfer `upToId`. */
async function sumPaid(db: Db | Tx, userId: string, from: Date, to: Date, upToId?: string): Promise<number> {
  let query = db
    .selectFrom('transfers')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount'), sql<string>`0`).as('paid'))
    .where('debit_account_id', '=', userId)
    .where('reason', '=', 'pay')
    .where('created_at', '>=', from)
    .where('created_at', '<', to);
  if (upToId !== undefined) query = query.where('id', '<=', upToId);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.paid);
}

/** Coins `userId` has sent with /pay in the local day of `now`. */
export async function paidToday(db: Db, userId: string, timeZone: string, now: Date): Promise<number> {
  if (!ACCOUNT_ID.test(userId)) return 0;
  return sumPaid(db, userId, dayStart(now, timeZone), nextDayStart(now, timeZone));
}

/**
 * A peer transfer under a per-day sending limit. Both wallets are locked in id order (the order the ledger
 * locks them in, so two users paying each other cannot deadlock) before the day's total is read, so
 * concurrent payments from one sender queue up and the limit holds.
 */
export async function payUser(db: Db, req: PayRequest): Promise<PayResult> {
  checkRequest(req);
  return transact(db, async (trx) => {
    const wallets = await trx
      .selectFrom('accounts')
      .select(['id', 'kind'])
      .where('id', 'in', [req.fromUserId, req.toUserId])
      .orderBy('id')
      .forUpdate()
      .execute();
    if (wallets.length !== 2 || wallets.some((w) => w.kind !== 'user'))
      throw new LedgerRefusal('unknown_account');

    const earlier = await trx
      .selectFrom('transfers')
      .select(['id', 'debit_account_id', 'credit_account_id', 'amount', 'reason', 'created_at'])
      .select(['debit_balance_after', 'credit_balance_after'])
      .where('idempotency_key', '=', req.key)
      .executeTakeFirst();
    if (earlier) {
      const same =
        earlier.reason === 'pay' &&
        earlier.debit_account_id === req.fromUserId &&
        earlier.credit_account_id === req.toUserId &&
        Number(earlier.amount) === req.amount;
      if (!same) throw new LedgerRefusal('key_reused');
      return {
        transferId: earlier.id,
        replayed: true,
        fromBalance: Number(earlier.debit_balance_after),
        toBalance: Number(earlier.credit_balance_after),
        paidToday: await sumPaid(
          trx,
          req.fromUserId,
          dayStart(earlier.created_at, req.timeZone),
          nextDayStart(earlier.created_at, req.timeZone),
          earlier.id,
        ),
      };
    }

    const before = await sumPaid(
      trx,
      req.fromUserId,
      dayStart(req.now, req.timeZone),
      nextDayStart(req.now, req.timeZone),
    );
    const left = Math.max(0, req.dailyLimit - before);
    if (req.amount > left) {
      throw new AppError(
        'pay_limit',
        `You can send up to ${formatNumber(req.dailyLimit)} coins a day with /pay; ${formatNumber(left)} left today.`,
        409,
        { limit: req.dailyLimit, left, paidToday: before, resetsAt: nextDayStart(req.now, req.timeZone) },
      );
    }

    const [result] = await applyInTransaction(
      trx,
      [
        {
          op: 'transfer',
          key: req.key,
          debit: req.fromUserId,
          credit: req.toUserId,
          amount: req.amount,
          reason: 'pay',
          memo: req.note?.trim() || undefined,
          actor: req.fromUserId,
        },
      ],
      req.now,
    );
    if (!result!.ok) {
      if (result!.code !== 'insufficient_funds') throw new LedgerRefusal(result!.code);
      const wallet = await trx
        .selectFrom('accounts')
        .select('balance')
        .where('id', '=', req.fromUserId)
        .executeTakeFirst();
      throw new LedgerRefusal('insufficient_funds', notEnoughCoins(Number(wallet?.balance ?? 0), req.amount));
    }
    return {
      transferId: result!.transferId,
      replayed: result!.replayed,
      fromBalance: result!.debitBalance!,
      toBalance: result!.creditBalance!,
      paidToday: before + req.amount,
    };
  });
}

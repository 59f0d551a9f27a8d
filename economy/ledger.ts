import { sql } from 'kysely';
import type { Db, Tx } from '../db/client.ts';
import { TxBatcher, type BatchPlan, type BatcherOptions } from './batcher.ts';
import { AppError } from './errors.ts';

/** System accounts have fixed ids; a user's wallet has the user's id. */
export const SYSTEM_ACCOUNTS = { mint: '1', escrow: '2', fees: '3', burn: '4' } as const;
export type SystemAccount = keyof typeof SYSTEM_ACCOUNTS;
export type AccountId = string;

/** The largest amount one transfer may move. */
export const MAX_AMOUNT = 1_000_000_000_000;

interface OpBase {
  /** Idempotency key chosen by the cause: interaction id, event id, job id. A retry returns the first result. */
  key: string;
  /** Domain reason, e.g. `daily`, `pay`, `market_purchase`, `admin_adjust`. */
  reason: string;
  memo?: string;
  ref?: Record<string, unknown>;
  /** The user who caused the movement, when there is one. */
  actor?: string;
}

export interface TransferOp extends OpBase {
  op: 'transfer';
  debit: AccountId;
  credit: AccountId;
  amount: number;
  /** Admin moves may touch frozen wallets. */
  force?: boolean;
  /** Set for a compensating transfer; the sum of reversals never exceeds the original. */
  reverses?: string;
}

export interface HoldOp extends OpBase {
  op: 'hold';
  debit: AccountId;
  amount: number;
  expiresAt: Date;
}

export interface PostOp extends OpBase {
  op: 'post';
  pendingId: string;
  credit: AccountId;
  /** Part of the hold to post; the rest returns to the holder. Defaults to the whole hold. */
  amount?: number;
  /** Part of `amount` that goes to `fees` instead of `credit`. */
  fee?: number;
  force?: boolean;
}

export interface VoidOp extends OpBase {
  op: 'void';
  pendingId: string;
}

export type LedgerOp = TransferOp | HoldOp | PostOp | VoidOp;

export const REFUSALS = {
  insufficient_funds: 'Not enough coins for that.',
  frozen: 'That account is frozen.',
  key_reused: 'This request was already used for a different operation.',
  already_posted: 'That hold was already completed.',
  already_voided: 'That hold was already refunded.',
  expired: 'That hold has expired.',
  unknown_account: 'That account does not exist.',
  unknown_transfer: 'That transfer does not exist.',
  invalid_amount: `Amounts are whole coins from 1 to ${MAX_AMOUNT.toLocaleString('en-US')}.`,
  invalid_key: 'Every ledger operation needs an idempotency key.',
  invalid_fee: 'The fee must be a whole number of coins smaller than the amount.',
  exceeds_hold: 'Cannot post more than the hold.',
  exceeds_reversible: 'That would reverse more than the original transfer.',
  same_account: 'Cannot move coins to the same account.',
  escrow_reserved: 'Escrow only moves through holds.',
  invalid_op: 'Unknown ledger operation.',
  invalid_expiry: 'A hold needs an expiry time.',
  busy: 'The ledger is busy; try again.',
} as const;

export type RefusalCode = keyof typeof REFUSALS;

export type LedgerResult =
  | {
      ok: true;
      transferId: string;
      /** True when the key had already been applied and this is the first result again. */
      replayed: boolean;
      /** Wallet balance after the movement, for user accounts (null for system accounts). */
      debitBalance: number | null;
      creditBalance: number | null;
    }
  | { ok: false; code: RefusalCode; message: string };

export type Applied = Extract<LedgerResult, { ok: true }>;

/** A typed refusal; `code` says why. Nothing was written. */
export class LedgerRefusal extends AppError {
  constructor(readonly refusal: RefusalCode) {
    super(refusal, REFUSALS[refusal], refusal === 'busy' ? 503 : 409);
  }
}

const refused = (code: RefusalCode): LedgerResult => ({ ok: false, code, message: REFUSALS[code] });

const validAmount = (n: unknown): boolean =>
  typeof n === 'number' && Number.isSafeInteger(n) && n > 0 && n <= MAX_AMOUNT;

/** Checks an operation in TS so that a bad one never reaches SQL. */
function validate(op: LedgerOp): RefusalCode | null {
  if (typeof op.key !== 'string' || op.key.length === 0 || op.key.length > 200) return 'invalid_key';
  if (op.op === 'post') {
    if (op.amount !== undefined && !validAmount(op.amount)) return 'invalid_amount';
    if (op.fee !== undefined && (!Number.isSafeInteger(op.fee) || op.fee < 0)) return 'invalid_fee';
    if (op.fee !== undefined && op.amount !== undefined && op.fee >= op.amount) return 'invalid_fee';
    return null;
  }
  if (op.op === 'void') return null;
  if (!validAmount(op.amount)) return 'invalid_amount';
  if (op.op === 'transfer' && op.debit === op.credit) return 'same_account';
  return null;
}

function toJson(op: LedgerOp): Record<string, unknown> {
  const base = { op: op.op, key: op.key, reason: op.reason, memo: op.memo, ref: op.ref, actor: op.actor };
  switch (op.op) {
    case 'transfer':
      return {
        ...base,
        debit: op.debit,
        credit: op.credit,
        amount: op.amount,
        force: op.force,
        reverses: op.reverses,
      };
    case 'hold':
      return { ...base, debit: op.debit, amount: op.amount, expires_at: op.expiresAt.toISOString() };
    case 'post':
      return {
        ...base,
        pending_id: op.pendingId,
        credit: op.credit,
        amount: op.amount,
        fee: op.fee,
        force: op.force,
      };
    case 'void':
      return { ...base, pending_id: op.pendingId };
  }
}

interface Row {
  idx: number;
  code: string;
  transfer_id: string | null;
  replayed: boolean;
  debit_balance: string | null;
  credit_balance: string | null;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

function toResult(row: Row): LedgerResult {
  if (row.code !== 'ok') return refused(row.code as RefusalCode);
  return {
    ok: true,
    transferId: row.transfer_id!,
    replayed: row.replayed,
    debitBalance: num(row.debit_balance),
    creditBalance: num(row.credit_balance),
  };
}

const isUserAccount = (id: string) => Number(id) >= 1000;

/**
 * The operations that may share one ledger_apply call, picked greedily in order: no shared key, debited
 * wallet, hold or reversed transfer, and no debit of a wallet credited earlier in the batch (see the
 * migration that creates ledger_apply). The rest wait for a later call, in their order.
 */
export const ledgerBatchPlan: BatchPlan<LedgerOp> = () => {
  const keys = new Set<string>();
  const debited = new Set<string>();
  const credited = new Set<string>();
  const refs = new Set<string>();
  return (op) => {
    const debit = op.op === 'transfer' || op.op === 'hold' ? op.debit : undefined;
    const credit = op.op === 'transfer' || op.op === 'post' ? op.credit : undefined;
    const ref =
      op.op === 'post' || op.op === 'void' ? op.pendingId : op.op === 'transfer' ? op.reverses : undefined;
    if (keys.has(op.key)) return false;
    if (debit && isUserAccount(debit) && (debited.has(debit) || credited.has(debit))) return false;
    if (ref && refs.has(ref)) return false;
    keys.add(op.key);
    if (debit) debited.add(debit);
    if (credit) credited.add(credit);
    if (ref) refs.add(ref);
    return true;
  };
};

async function runLedgerApply(trx: Tx, ops: LedgerOp[], now: Date): Promise<Row[]> {
  const { rows } =
    await sql<Row>`select * from ledger_apply(${JSON.stringify(ops.map(toJson))}::jsonb, ${now})`.execute(
      trx,
    );
  return rows;
}

/**
 * Applies operations inside the caller's transaction, in order, as few batches as the batching rules allow.
 * Invalid operations are refused in TS and never reach SQL. The caller's transaction may fail with a
 * serialization failure (a concurrent use of the same key) or a deadlock: run it with `transact` from
 * db/client.ts or a `TxBatcher`, which retry it.
 */
export async function applyInTransaction(trx: Tx, ops: LedgerOp[], now: Date): Promise<LedgerResult[]> {
  const results: (LedgerResult | undefined)[] = ops.map((op) => {
    const bad = validate(op);
    return bad ? refused(bad) : undefined;
  });
  let remaining = ops.flatMap((_op, i) => (results[i] ? [] : [i]));
  while (remaining.length > 0) {
    const admit = ledgerBatchPlan();
    const batch: number[] = [];
    const rest: number[] = [];
    for (const i of remaining) (admit(ops[i]!) ? batch : rest).push(i);
    const rows = await runLedgerApply(
      trx,
      batch.map((i) => ops[i]!),
      now,
    );
    const deferred: number[] = [];
    for (const row of rows) {
      const i = batch[row.idx]!;
      if (row.code === 'defer') deferred.push(i);
      else results[i] = toResult(row);
    }
    remaining = [...deferred, ...rest].sort((a, b) => a - b);
  }
  return results as LedgerResult[];
}

export interface LedgerOptions extends BatcherOptions {
  /** The clock that stamps each batch. */
  now?: () => Date;
}

/**
 * Ledger operations that each stand alone (no other write joins them), batched by the production batcher:
 * concurrent operations share one transaction through `TxBatcher`, each applied by `applyInTransaction`, as
 * the daily claim and the market apply theirs. A refusal writes nothing for its operation and leaves the
 * rest of the batch to commit. The tests, the seeding and `npm run bench:ledger` move coins through this.
 */
export class Ledger {
  private readonly batcher: TxBatcher<LedgerOp, Applied>;

  constructor(db: Db, { now = () => new Date(), ...batching }: LedgerOptions = {}) {
    this.batcher = new TxBatcher(
      db,
      async (trx, ops) =>
        (await applyInTransaction(trx, ops, now())).map((r) =>
          r.ok ? { ok: true, value: r } : { ok: false, error: new LedgerRefusal(r.code) },
        ),
      ledgerBatchPlan,
      { maxInFlight: 2, ...batching },
    );
  }

  /** Applies one operation; resolves with its result (a refusal is a result, not an exception). */
  async submit(op: LedgerOp): Promise<LedgerResult> {
    const bad = validate(op);
    if (bad) return refused(bad);
    try {
      return await this.batcher.submit(op);
    } catch (err) {
      if (err instanceof LedgerRefusal) return refused(err.refusal);
      if (err instanceof AppError && err.code === 'busy') return refused('busy');
      throw err;
    }
  }

  /** Applies one operation; throws LedgerRefusal when refused. */
  async apply(op: LedgerOp): Promise<Applied> {
    const result = await this.submit(op);
    if (!result.ok) throw new LedgerRefusal(result.code);
    return result;
  }

  transfer(op: Omit<TransferOp, 'op'>): Promise<Applied> {
    return this.apply({ ...op, op: 'transfer' });
  }

  hold(op: Omit<HoldOp, 'op'>): Promise<Applied> {
    return this.apply({ ...op, op: 'hold' });
  }

  post(op: Omit<PostOp, 'op'>): Promise<Applied> {
    return this.apply({ ...op, op: 'post' });
  }

  void(op: Omit<VoidOp, 'op'>): Promise<Applied> {
    return this.apply({ ...op, op: 'void' });
  }

  /** A compensating transfer that undoes (part of) `reverses`, e.g. an admin refund. */
  reverse(op: Omit<TransferOp, 'op' | 'reverses'> & { reverses: string }): Promise<Applied> {
    return this.apply({ ...op, op: 'transfer', force: true });
  }
}

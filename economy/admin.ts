import { transact, type Db, type Tx } from '../db/client.ts';
import { auditAction, type AuditEntry } from './audit.ts';
import { AppError } from './errors.ts';
import { formatNumber } from '../config/numbers.ts';
import { applyInTransaction, LedgerRefusal, MAX_AMOUNT, SYSTEM_ACCOUNTS, type TransferOp } from './ledger.ts';
import {
  can,
  parseRoleMap,
  requirePermission,
  ROLES,
  roleMapSchema,
  type Actor,
  type Role,
  type RoleMap,
} from './rbac.ts';

export interface AdminDeps {
  db: Db;
  now: () => Date;
}

const MAX_REASON = 500;
function checkReason(reason: string | undefined | null, required: boolean): string | null {
  const text = reason?.trim() ?? '';
  if (required && text.length === 0)
    throw new AppError('reason_required', 'Give a reason; it goes to the audit log.');
  if (text.length > MAX_REASON)
    throw new AppError('reason_too_long', `Keep the reason under ${MAX_REASON} characters.`);
  return text.length > 0 ? text : null;
}

/** The acting member's user id, recorded on the transfers and rows they cause; none for the system. */
const actingUser = (actor: Actor): string | undefined => (actor.kind === 'member' ? actor.userId : undefined);

const userNotFound = () => new AppError('user_not_found', 'That user has no Coinhub wallet yet.', 404);

async function lockUser(trx: Tx, userId: string) {
  const user = await trx
    .selectFrom('users')
    .select(['id', 'frozen', 'frozen_reason', 'frozen_at', 'frozen_by'])
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  if (!user) throw userNotFound();
  return user;
}

export interface AdjustInput {
  userId: string;
  /** Coins to mint into the wallet (positive) or burn from it (negative). */
  amount: number;
  reason: string;
  /** Idempotency key of the cause (the interaction id, the panel's Idempotency-Key). */
  key: string;
}

export interface AdjustResult {
  transferId: string;
  /** True when this key had already been applied: nothing moved and no new audit row. */
  replayed: boolean;
  balanceBefore: number;
  balanceAfter: number;
}

/**
 * Mints coins into a wallet or burns coins from it through the ledger, frozen or not, and appends one audit
 * row, all in one transaction. Idempotent by key: a retry returns the first result.
 */
export async function adjustBalance(
  deps: AdminDeps,
  actor: Actor,
  input: AdjustInput,
): Promise<AdjustResult> {
  requirePermission(actor, 'balance.adjust');
  const reason = checkReason(input.reason, true)!;
  const amount = input.amount;
  if (!Number.isSafeInteger(amount) || amount === 0 || Math.abs(amount) > MAX_AMOUNT) {
    throw new AppError(
      'invalid_amount',
      `The amount is a whole number of coins, not 0, between -${formatNumber(MAX_AMOUNT)} and ${formatNumber(MAX_AMOUNT)}.`,
    );
  }
  const op: TransferOp = {
    op: 'transfer',
    key: `admin:adjust:${input.key}`,
    debit: amount > 0 ? SYSTEM_ACCOUNTS.mint : input.userId,
    credit: amount > 0 ? input.userId : SYSTEM_ACCOUNTS.burn,
    amount: Math.abs(amount),
    force: true,
    reason: 'admin_adjust',
    memo: reason,
    actor: actingUser(actor),
  };
  return transact(deps.db, async (trx) => {
    await lockUser(trx, input.userId);
    const [result] = await applyInTransaction(trx, [op], deps.now());
    if (!result!.ok) throw new LedgerRefusal(result!.code);
    const balanceAfter = (amount > 0 ? result!.creditBalance : result!.debitBalance)!;
    const out = {
      transferId: result!.transferId,
      replayed: result!.replayed,
      balanceBefore: balanceAfter - amount,
      balanceAfter,
    };
    if (!result!.replayed) {
      await auditAction(trx, actor, {
        action: 'balance.adjust',
        target: { type: 'user', id: input.userId },
        before: { balance: out.balanceBefore },
        after: { balance: balanceAfter, amount, transferId: out.transferId },
        reason,
      });
    }
    return out;
  });
}

export interface FreezeResult {
  /** False when the wallet was already in the requested state: nothing changed and no audit row. */
  changed: boolean;
  frozen: boolean;
  audit: AuditEntry | null;
}

/** Freezes a wallet: its owner can neither spend nor receive until unfrozen. One transaction, one audit row. */
export async function freezeUser(
  deps: AdminDeps,
  actor: Actor,
  input: { userId: string; reason: string },
): Promise<FreezeResult> {
  requirePermission(actor, 'user.freeze');
  const reason = checkReason(input.reason, true)!;
  if (actingUser(actor) === input.userId)
    throw new AppError('freeze_self', 'You cannot freeze your own wallet.');
  return transact(deps.db, async (trx) => {
    const user = await lockUser(trx, input.userId);
    if (user.frozen) return { changed: false, frozen: true, audit: null };
    const at = deps.now();
    await trx
      .updateTable('users')
      .set({
        frozen: true,
        frozen_reason: reason,
        frozen_at: at,
        frozen_by: actingUser(actor) ?? null,
        updated_at: at,
      })
      .where('id', '=', input.userId)
      .execute();
    const audit = await auditAction(trx, actor, {
      action: 'user.freeze',
      target: { type: 'user', id: input.userId },
      before: { frozen: false },
      after: { frozen: true },
      reason,
    });
    return { changed: true, frozen: true, audit };
  });
}

/** Unfreezes a wallet, restoring spending and receiving. One transaction, one audit row. */
export async function unfreezeUser(
  deps: AdminDeps,
  actor: Actor,
  input: { userId: string; reason?: string | null },
): Promise<FreezeResult> {
  requirePermission(actor, 'user.freeze');
  const reason = checkReason(input.reason, false);
  return transact(deps.db, async (trx) => {
    const user = await lockUser(trx, input.userId);
    if (!user.frozen) return { changed: false, frozen: false, audit: null };
    const at = deps.now();
    await trx
      .updateTable('users')
      .set({ frozen: false, frozen_reason: null, frozen_at: null, frozen_by: null, updated_at: at })
      .where('id', '=', input.userId)
      .execute();
    const audit = await auditAction(trx, actor, {
      action: 'user.unfreeze',
      target: { type: 'user', id: input.userId },
      before: {
        frozen: true,
        reason: user.frozen_reason,
        frozenAt: user.frozen_at?.toISOString() ?? null,
        frozenBy: user.frozen_by,
      },
      after: { frozen: false },
      reason,
    });
    return { changed: true, frozen: false, audit };
  });
}

export interface RefundResult {
  /** False when the transaction had already been refunded: nothing moved and no audit row. */
  changed: boolean;
  /** `voided`: a pending hold went back to the buyer; `reversed`: compensating transfers were posted. */
  outcome: 'voided' | 'reversed' | 'already_refunded';
  /** Ids of the void or compensating transfers this refund created (or found, when replayed). */
  transferIds: string[];
  amount: number;
  audit: AuditEntry | null;
}

interface TransferRow {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: string;
  phase: 'single' | 'pending' | 'post' | 'void';
  state: 'posted' | 'pending' | 'voided';
  pending_id: string | null;
  reverses_id: string | null;
  reason: string;
}

const TRANSFER_COLUMNS = [
  'id',
  'debit_account_id',
  'credit_account_id',
  'amount',
  'phase',
  'state',
  'pending_id',
  'reverses_id',
  'reason',
] as const;

export const transferNotFound = () => new AppError('transfer_not_found', 'No such transaction.', 404);

async function findTransfer(db: Db | Tx, id: string): Promise<TransferRow | undefined> {
  if (!/^\d{1,19}$/.test(id)) return undefined;
  return db.selectFrom('transfers').select(TRANSFER_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** Whether a transaction is one that Refund applies to (and not itself a return of coins). */
export function isRefundable(t: Pick<TransferRow, 'phase' | 'state' | 'reverses_id' | 'reason'>): boolean {
  if (t.phase === 'void' || t.reverses_id !== null || t.reason === 'partial_post_remainder') return false;
  return !(t.phase === 'pending' && t.state === 'voided');
}

async function reversedSoFar(trx: Tx, transferId: string): Promise<number> {
  const row = await trx
    .selectFrom('transfers')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount'), eb.val('0')).as('total'))
    .where('reverses_id', '=', transferId)
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

/**
 * Refunds a transaction: a pending hold is voided back to the buyer; a completed transfer gets a compensating
 * transfer from its recipient back to its payer (for an escrow payout, back to the buyer who held the coins).
 * One transaction with one audit row. Idempotent by transaction: a second click finds it refunded and changes
 * nothing.
 */
export async function refundTransfer(
  deps: AdminDeps,
  actor: Actor,
  input: { transferId: string; reason?: string | null },
): Promise<RefundResult> {
  requirePermission(actor, 'tx.refund');
  const reason = checkReason(input.reason, false);
  return transact(deps.db, async (trx) => {
    const t = await findTransfer(trx, input.transferId);
    if (!t) throw transferNotFound();
    if (t.phase === 'pending' && t.state === 'voided') {
      return { changed: false, outcome: 'already_refunded', transferIds: [], amount: 0, audit: null };
    }
    if (!isRefundable(t)) {
      throw new AppError(
        'not_refundable',
        'This transaction already returns coins; there is nothing to refund.',
        409,
      );
    }
    const order = await trx
      .selectFrom('orders')
      .select('id')
      .where('hold_transfer_id', '=', t.phase === 'pending' ? t.id : (t.pending_id ?? '0'))
      .executeTakeFirst();
    if (order) {
      // The order's state, stock and payouts move together; only the market may refund it.
      throw new AppError(
        'order_refund_required',
        `This transaction belongs to order #${order.id}; refund the order instead.`,
        409,
      );
    }
    await assertMayRefund(trx, actor, t);
    const now = deps.now();
    const base = { reason: 'refund', memo: reason ?? undefined, actor: actingUser(actor) };

    if (t.phase === 'pending' && t.state === 'pending') {
      const [r] = await applyInTransaction(
        trx,
        [{ op: 'void', key: `refund:${t.id}`, pendingId: t.id, ...base }],
        now,
      );
      if (!r!.ok) {
        if (r!.code === 'already_voided') {
          return { changed: false, outcome: 'already_refunded', transferIds: [], amount: 0, audit: null };
        }
        throw new LedgerRefusal(r!.code);
      }
      const result: RefundResult = {
        changed: !r!.replayed,
        outcome: 'voided',
        transferIds: [r!.transferId],
        amount: Number(t.amount),
        audit: null,
      };
      if (result.changed) result.audit = await auditRefund(trx, actor, t, result, reason);
      return result;
    }

    // A completed hold is refunded by reversing its payouts (to the seller and the fee); a payout alone by
    // reversing that payout. Either way the coins go back to the account that held them.
    let parts: TransferRow[];
    let payer: string;
    if (t.phase === 'single') {
      parts = [t];
      payer = t.debit_account_id;
    } else {
      const holdId = t.phase === 'pending' ? t.id : t.pending_id!;
      const hold = (await findTransfer(trx, holdId))!;
      payer = hold.debit_account_id;
      parts =
        t.phase === 'pending'
          ? await trx
              .selectFrom('transfers')
              .select(TRANSFER_COLUMNS)
              .where('pending_id', '=', t.id)
              .where('phase', '=', 'post')
              .where('reason', '<>', 'partial_post_remainder')
              .orderBy('id')
              .execute()
          : [t];
    }
    const ops: TransferOp[] = [];
    for (const part of parts) {
      const remaining = Number(part.amount) - (await reversedSoFar(trx, part.id));
      if (remaining <= 0) continue;
      ops.push({
        op: 'transfer',
        key: `refund:${part.id}`,
        debit: part.credit_account_id,
        credit: payer,
        amount: remaining,
        reverses: part.id,
        force: true,
        ...base,
      });
    }
    if (ops.length === 0) {
      return { changed: false, outcome: 'already_refunded', transferIds: [], amount: 0, audit: null };
    }
    const results = await applyInTransaction(trx, ops, now);
    const refused = results.find((r) => !r.ok);
    if (refused && !refused.ok) {
      if (refused.code === 'insufficient_funds') {
        throw new AppError(
          'refund_insufficient_funds',
          'The recipient no longer has enough coins to give back; use /admin adjust instead.',
          409,
        );
      }
      throw new LedgerRefusal(refused.code);
    }
    const applied = results.flatMap((r) => (r.ok ? [r] : []));
    const result: RefundResult = {
      changed: applied.some((r) => !r.replayed),
      outcome: 'reversed',
      transferIds: applied.map((r) => r.transferId),
      amount: ops.reduce((sum, op) => sum + op.amount, 0),
      audit: null,
    };
    if (result.changed) result.audit = await auditRefund(trx, actor, t, result, reason);
    return result;
  });
}

/**
 * A refund that pays the acting member back (they are a party to the transaction, or to the hold it settles),
 * or that undoes a mint or burn, is a balance adjustment in disguise: it needs `balance.adjust` as well.
 */
async function assertMayRefund(trx: Tx, actor: Actor, t: TransferRow): Promise<void> {
  if (can(actor, 'balance.adjust')) return;
  if (t.reason === 'admin_adjust') {
    throw new AppError(
      'forbidden',
      'Reversing a mint or burn needs a Coinhub role that may adjust balances.',
      403,
    );
  }
  if (actor.kind !== 'member') return;
  const parties = [t.debit_account_id, t.credit_account_id].map(String);
  if (t.pending_id !== null) {
    const hold = await findTransfer(trx, String(t.pending_id));
    if (hold) parties.push(String(hold.debit_account_id), String(hold.credit_account_id));
  }
  if (parties.includes(actor.userId)) {
    throw new AppError(
      'refund_own',
      'You cannot refund a transaction you are a party to; ask an admin.',
      403,
    );
  }
}

function auditRefund(trx: Tx, actor: Actor, t: TransferRow, result: RefundResult, reason: string | null) {
  return auditAction(trx, actor, {
    action: 'tx.refund',
    target: { type: 'transfer', id: t.id },
    before: { state: t.state, amount: Number(t.amount) },
    after: { outcome: result.outcome, amount: result.amount, transferIds: result.transferIds },
    reason,
  });
}

const MAX_NOTE = 500;

/** Attaches a note to a transaction (shown on its feed entry). One audit row; a repeated request adds none. */
export async function noteTransfer(
  deps: AdminDeps,
  actor: Actor,
  input: { transferId: string; note: string },
): Promise<AuditEntry> {
  requirePermission(actor, 'tx.note');
  const note = input.note.trim();
  if (note.length === 0) throw new AppError('note_empty', 'The note is empty.');
  if (note.length > MAX_NOTE) throw new AppError('note_too_long', `Keep notes under ${MAX_NOTE} characters.`);
  return transact(deps.db, async (trx) => {
    if (!(await findTransfer(trx, input.transferId))) throw transferNotFound();
    if (actor.requestId) {
      const earlier = await trx
        .selectFrom('audit_log')
        .select('id')
        .where('request_id', '=', actor.requestId)
        .where('action', '=', 'tx.note')
        .executeTakeFirst();
      if (earlier) throw new AppError('note_duplicate', 'That note was already added.', 409);
    }
    return auditAction(trx, actor, {
      action: 'tx.note',
      target: { type: 'transfer', id: input.transferId },
      after: { note },
    });
  });
}

/** The guild's role map, its settings row created if needed and locked for the change. */
async function lockRoleMap(trx: Tx, guildId: string): Promise<RoleMap> {
  await trx
    .insertInto('guild_settings')
    .values({ guild_id: guildId })
    .onConflict((oc) => oc.column('guild_id').doNothing())
    .execute();
  const row = await trx
    .selectFrom('guild_settings')
    .select('role_map')
    .where('guild_id', '=', guildId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return parseRoleMap(row.role_map);
}

/** Stores a changed role map with its audit row (before and after). */
async function saveRoleMap(
  trx: Tx,
  deps: AdminDeps,
  actor: Actor,
  guildId: string,
  before: RoleMap,
  after: RoleMap,
): Promise<void> {
  await trx
    .updateTable('guild_settings')
    .set({ role_map: JSON.stringify(after), updated_at: deps.now() })
    .where('guild_id', '=', guildId)
    .execute();
  await auditAction(trx, actor, {
    action: 'roles.change',
    target: { type: 'guild', id: guildId },
    before,
    after,
  });
}

export interface RoleMapChange {
  guildId: string;
  role: Role;
  discordRoleId: string;
  /** Remove the Discord role from the Coinhub role instead of adding it. */
  remove?: boolean;
}

/**
 * Adds a Discord role to a Coinhub role in the guild's role map (or removes it), creating the guild's
 * settings row if needed. Owners only. One transaction, one audit row with the map before and after; a
 * change that changes nothing writes no row.
 */
export async function changeRoleMap(
  deps: AdminDeps,
  actor: Actor,
  change: RoleMapChange,
): Promise<{ changed: boolean; roleMap: RoleMap }> {
  requirePermission(actor, 'roles.change');
  if (!ROLES.includes(change.role)) throw new AppError('invalid_role', `Roles are ${ROLES.join(', ')}.`);
  if (!/^\d{15,21}$/.test(change.discordRoleId))
    throw new AppError('invalid_role', 'That is not a Discord role.');
  return transact(deps.db, async (trx) => {
    const before = await lockRoleMap(trx, change.guildId);
    const current = before[change.role] ?? [];
    const had = current.includes(change.discordRoleId);
    if (change.remove ? !had : had) return { changed: false, roleMap: before };
    const after: RoleMap = {
      ...before,
      [change.role]: change.remove
        ? current.filter((id) => id !== change.discordRoleId)
        : [...current, change.discordRoleId],
    };
    if (!roleMapSchema.safeParse(after).success) {
      throw new AppError('too_many_roles', 'A Coinhub role maps to at most 25 Discord roles.');
    }
    await saveRoleMap(trx, deps, actor, change.guildId, before, after);
    return { changed: true, roleMap: after };
  });
}

/**
 * Replaces the guild's whole role map (the panel's role-map editor), creating the guild's settings row if
 * needed. Owners only. One transaction, one audit row with the map before and after; the same map again
 * changes nothing and writes no row.
 */
export async function replaceRoleMap(
  deps: AdminDeps,
  actor: Actor,
  input: { guildId: string; roleMap: unknown },
): Promise<{ changed: boolean; roleMap: RoleMap }> {
  requirePermission(actor, 'roles.change');
  const parsed = roleMapSchema.safeParse(input.roleMap);
  if (!parsed.success) {
    throw new AppError(
      'invalid_role_map',
      `A role map gives each of ${ROLES.join(', ')} a list of at most 25 Discord role ids.`,
    );
  }
  const after: RoleMap = Object.fromEntries(
    ROLES.flatMap((role) => (parsed.data[role]?.length ? [[role, [...new Set(parsed.data[role])]]] : [])),
  );
  return transact(deps.db, async (trx) => {
    const before = await lockRoleMap(trx, input.guildId);
    if (JSON.stringify(before) === JSON.stringify(after)) return { changed: false, roleMap: before };
    await saveRoleMap(trx, deps, actor, input.guildId, before, after);
    return { changed: true, roleMap: after };
  });
}

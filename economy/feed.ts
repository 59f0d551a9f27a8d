import { sql, type RawBuilder } from 'kysely';
import { transact, type Db, type Tx } from '../db/client.ts';
import { isRefundable } from './admin.ts';
import { SYSTEM_ACCOUNTS } from './ledger.ts';

/**
 * The transaction feed reads `transfers` as an outbox. Each consumer (the Redis live stream, the Discord
 * poster) keeps its own cursor in `feed_cursors` and reads forward from it in id order.
 *
 * Transfer ids come from an identity sequence, so a transaction that drew a lower id can commit after a
 * higher id is already visible. When a reader sees a missing id below a visible one it records the current
 * snapshot's xmax and stops before the gap. The gap is final (the id was rolled back or burned by an
 * idempotent replay, and will never appear) once every transaction that could hold it has ended — the
 * oldest running transaction (`pg_snapshot_xmin`) has passed that xmax — and at least GAP_MIN_AGE has
 * passed, which also covers the instant between a transaction drawing an id and taking its xid.
 */
export const GAP_MIN_AGE_MS = 1000;

export type FeedConsumer = 'redis' | 'discord';

const SYSTEM_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(SYSTEM_ACCOUNTS).map(([name, id]) => [id, name]),
);

export interface FeedParty {
  accountId: string;
  /** The wallet owner's user id (== accountId) for user wallets; null for system accounts. */
  userId: string | null;
  /** Set for user wallets; null for system accounts. */
  discordId: string | null;
  /** The username, or the system account's name (`mint`, `escrow`, `fees`, `burn`). */
  name: string;
  frozen: boolean;
  /** Who froze the wallet, when it is frozen. */
  frozenByDiscordId: string | null;
}

/** One ledger transfer with what the feed shows about it. */
export interface FeedTransfer {
  id: string;
  phase: 'single' | 'pending' | 'post' | 'void';
  state: 'posted' | 'pending' | 'voided';
  reason: string;
  memo: string | null;
  amount: number;
  from: FeedParty;
  to: FeedParty;
  fromBalanceAfter: number | null;
  toBalanceAfter: number | null;
  /** The hold this transfer resolves (post, void), or its own id for a hold. */
  holdId: string | null;
  /** The hold's current state; a post or void row is the event that moved it. */
  holdState: 'pending' | 'posted' | 'voided' | null;
  reversesId: string | null;
  /** Coins already given back by compensating transfers. */
  reversed: number;
  /** Whether Refund applies: not itself a return of coins, and not yet fully given back. */
  refundable: boolean;
  /** The market order whose escrow this transfer holds or settles; its admin actions go through the market. */
  order: { id: string; state: string } | null;
  listing: { id: string; state: string } | null;
  ref: Record<string, unknown> | null;
  actor: { userId: string; discordId: string; name: string } | null;
  createdAt: Date;
}

interface Row {
  id: string;
  phase: FeedTransfer['phase'];
  state: FeedTransfer['state'];
  reason: string;
  memo: string | null;
  amount: string;
  debit_account_id: string;
  credit_account_id: string;
  debit_balance_after: string | null;
  credit_balance_after: string | null;
  pending_id: string | null;
  reverses_id: string | null;
  ref: Record<string, unknown> | null;
  created_at: Date;
  d_discord: string | null;
  d_name: string | null;
  d_frozen: boolean | null;
  d_frozen_by: string | null;
  c_discord: string | null;
  c_name: string | null;
  c_frozen: boolean | null;
  c_frozen_by: string | null;
  actor_id: string | null;
  a_discord: string | null;
  a_name: string | null;
  hold_state: FeedTransfer['holdState'];
  reversed: string;
  order_id: string | null;
  order_state: string | null;
  listing_id: string | null;
  listing_state: string | null;
}

const party = (
  accountId: string,
  discordId: string | null,
  name: string | null,
  frozen: boolean | null,
  frozenBy: string | null,
): FeedParty => ({
  accountId,
  userId: discordId === null ? null : accountId,
  discordId,
  name: name ?? SYSTEM_NAMES[accountId] ?? `account ${accountId}`,
  frozen: frozen ?? false,
  frozenByDiscordId: frozen ? frozenBy : null,
});

/** The Refund button's rule: what `refundTransfer` accepts, less what an order or earlier reversals settled. */
function refundable(r: Row): boolean {
  if (!isRefundable(r)) return false;
  if (r.order_id !== null) return r.order_state !== 'refunded';
  return r.phase === 'pending' || Number(r.reversed) < Number(r.amount);
}

const num = (v: string | null) => (v === null ? null : Number(v));

function toFeedTransfer(r: Row): FeedTransfer {
  return {
    id: String(r.id),
    phase: r.phase,
    state: r.state,
    reason: r.reason,
    memo: r.memo,
    amount: Number(r.amount),
    from: party(String(r.debit_account_id), r.d_discord, r.d_name, r.d_frozen, r.d_frozen_by),
    to: party(String(r.credit_account_id), r.c_discord, r.c_name, r.c_frozen, r.c_frozen_by),
    fromBalanceAfter: num(r.debit_balance_after),
    toBalanceAfter: num(r.credit_balance_after),
    holdId: r.phase === 'pending' ? String(r.id) : r.pending_id === null ? null : String(r.pending_id),
    holdState: r.hold_state,
    reversesId: r.reverses_id === null ? null : String(r.reverses_id),
    reversed: Number(r.reversed),
    refundable: refundable(r),
    order: r.order_id === null ? null : { id: String(r.order_id), state: r.order_state! },
    listing: r.listing_id === null ? null : { id: String(r.listing_id), state: r.listing_state! },
    ref: r.ref,
    actor:
      r.actor_id !== null && r.a_discord !== null
        ? { userId: String(r.actor_id), discordId: r.a_discord, name: r.a_name ?? r.a_discord }
        : null,
    createdAt: r.created_at,
  };
}

/** Transfers with their parties, hold state and reversals, in id order (`order`), for `where` over alias `t`. */
export async function selectFeedTransfers(
  db: Db,
  where: RawBuilder<unknown>,
  limit: number,
  order: 'asc' | 'desc' = 'asc',
): Promise<FeedTransfer[]> {
  const { rows } = await sql<Row>`
    select t.id, t.phase, t.state, t.reason, t.memo, t.amount, t.debit_account_id, t.credit_account_id,
           t.debit_balance_after, t.credit_balance_after, t.pending_id, t.reverses_id, t.ref, t.created_at,
           t.actor_id,
           du.discord_id as d_discord, du.username as d_name, du.frozen as d_frozen, dfb.discord_id as d_frozen_by,
           cu.discord_id as c_discord, cu.username as c_name, cu.frozen as c_frozen, cfb.discord_id as c_frozen_by,
           au.discord_id as a_discord, au.username as a_name,
           h.state as hold_state,
           coalesce((select sum(r.amount) from transfers r where r.reverses_id = t.id), 0) as reversed,
           o.id as order_id, o.state as order_state, l.id as listing_id, l.state as listing_state
    from transfers t
    left join users du on du.id = t.debit_account_id
    left join users cu on cu.id = t.credit_account_id
    left join users dfb on dfb.id = du.frozen_by
    left join users cfb on cfb.id = cu.frozen_by
    left join users au on au.id = t.actor_id
    left join transfers h on h.id = case when t.phase = 'pending' then t.id else t.pending_id end
    left join orders o on o.hold_transfer_id = h.id
    left join listings l on l.id = o.listing_id
    where ${where}
    order by t.id ${order === 'desc' ? sql`desc` : sql`asc`}
    limit ${limit}`.execute(db);
  return rows.map(toFeedTransfer);
}

/** The transfers with ids in [firstId, lastId], for rendering a posted or planned feed message. */
export function feedTransfersBetween(db: Db, firstId: string, lastId: string): Promise<FeedTransfer[]> {
  return selectFeedTransfers(db, sql`t.id between ${firstId} and ${lastId}`, 10_000);
}

export async function feedTransfer(db: Db, id: string): Promise<FeedTransfer | undefined> {
  if (!/^\d{1,19}$/.test(id)) return undefined;
  return (await selectFeedTransfers(db, sql`t.id = ${id}`, 1))[0];
}

export interface FeedCursor {
  consumer: FeedConsumer;
  lastId: bigint;
  gapHorizon: bigint | null;
  plan: { first: string; last: string; mode: 'embeds' | 'lines' } | null;
}

interface CursorRow {
  consumer: FeedConsumer;
  last_id: string;
  gap_horizon: string | null;
  plan_first: string | null;
  plan_last: string | null;
  plan_mode: 'embeds' | 'lines' | null;
}

const toCursor = (r: CursorRow): FeedCursor => ({
  consumer: r.consumer,
  lastId: BigInt(r.last_id),
  gapHorizon: r.gap_horizon === null ? null : BigInt(r.gap_horizon),
  plan:
    r.plan_first !== null && r.plan_last !== null && r.plan_mode !== null
      ? { first: String(r.plan_first), last: String(r.plan_last), mode: r.plan_mode }
      : null,
});

/**
 * Creates the consumer's cursor if it has none. A consumer seen for the first time starts at the newest
 * transfer: a feed channel set up today shows what happens from now on, not the whole history.
 */
export async function createCursor(db: Db, consumer: FeedConsumer): Promise<void> {
  await sql`
    insert into feed_cursors (consumer, last_id)
    values (${consumer}, (select coalesce(max(id), 0) from transfers))
    on conflict (consumer) do nothing`.execute(db);
}

/** The consumer's cursor as it is now; `createCursor` made it. */
export async function readCursor(db: Db, consumer: FeedConsumer): Promise<FeedCursor> {
  const row = await db
    .selectFrom('feed_cursors')
    .select(['consumer', 'last_id', 'gap_horizon', 'plan_first', 'plan_last', 'plan_mode'])
    .where('consumer', '=', consumer)
    .executeTakeFirstOrThrow();
  return toCursor(row);
}

/** The consumer's cursor, created at the newest transfer on first use. */
export async function loadCursor(db: Db, consumer: FeedConsumer): Promise<FeedCursor> {
  await createCursor(db, consumer);
  return readCursor(db, consumer);
}

/** The cursor moved under us: another relay is running. The caller stops. */
export class CursorMoved extends Error {
  override name = 'CursorMoved';
}

/**
 * The next transfers after the cursor that are safe to hand out: contiguous ids, or ids past gaps that are
 * final. Stops before a gap that may still fill, recording the snapshot that decides when it is final.
 */
export async function readAfterCursor(db: Db, cursor: FeedCursor, limit: number): Promise<FeedTransfer[]> {
  const rows = await selectFeedTransfers(db, sql`t.id > ${cursor.lastId.toString()}`, limit);
  const out: FeedTransfer[] = [];
  let expected = cursor.lastId + 1n;
  let horizonFinal: boolean | undefined;
  for (const row of rows) {
    const id = BigInt(row.id);
    if (id !== expected) {
      if (cursor.gapHorizon !== null && id <= cursor.gapHorizon) {
        horizonFinal ??= await gapIsFinal(db, cursor.consumer);
        if (!horizonFinal) break;
      } else {
        // A gap below the highest id we can see: remember who might still be writing below it.
        await recordGap(db, cursor.consumer, BigInt(rows[rows.length - 1]!.id));
        break;
      }
    }
    out.push(row);
    expected = id + 1n;
  }
  return out;
}

async function recordGap(db: Db, consumer: FeedConsumer, horizon: bigint): Promise<void> {
  await sql`
    update feed_cursors
    set gap_horizon = ${horizon.toString()},
        gap_xmax = pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
        gap_seen_at = clock_timestamp(),
        updated_at = now()
    where consumer = ${consumer}`.execute(db);
}

async function gapIsFinal(db: Db, consumer: FeedConsumer): Promise<boolean> {
  const { rows } = await sql<{ final: boolean }>`
    select pg_snapshot_xmin(pg_current_snapshot())::text::bigint >= gap_xmax
           and clock_timestamp() - gap_seen_at >= ${`${GAP_MIN_AGE_MS} milliseconds`}::interval as final
    from feed_cursors where consumer = ${consumer}`.execute(db);
  return rows[0]?.final === true;
}

/**
 * Moves the cursor from `from` to `to` if nobody else moved it (compare-and-set), clearing a plan that
 * `to` completes and a gap record it passed. Throws CursorMoved otherwise.
 */
export async function advanceCursor(
  db: Db | Tx,
  consumer: FeedConsumer,
  from: bigint,
  to: bigint,
): Promise<void> {
  const result = await sql`
    update feed_cursors
    set last_id = ${to.toString()},
        plan_first = null, plan_last = null, plan_mode = null,
        gap_horizon = case when gap_horizon <= ${to.toString()} then null else gap_horizon end,
        gap_xmax = case when gap_horizon <= ${to.toString()} then null else gap_xmax end,
        gap_seen_at = case when gap_horizon <= ${to.toString()} then null else gap_seen_at end,
        updated_at = now()
    where consumer = ${consumer} and last_id = ${from.toString()}`.execute(db);
  if (result.numAffectedRows !== 1n) throw new CursorMoved(`${consumer} cursor is no longer at ${from}`);
}

/** Writes the batch the Discord poster is about to send, so that a restart sends exactly the same one. */
export async function savePlan(
  db: Db,
  cursor: FeedCursor,
  plan: { first: string; last: string; mode: 'embeds' | 'lines' },
): Promise<FeedCursor> {
  const result = await sql`
    update feed_cursors
    set plan_first = ${plan.first}, plan_last = ${plan.last}, plan_mode = ${plan.mode}, updated_at = now()
    where consumer = ${cursor.consumer} and last_id = ${cursor.lastId.toString()} and plan_first is null`.execute(
    db,
  );
  if (result.numAffectedRows !== 1n)
    throw new CursorMoved(`${cursor.consumer} cursor changed before planning`);
  return { ...cursor, plan };
}

/** The compact event published on `${REDIS_PREFIX}:tx` for every transfer. */
export interface FeedEvent {
  id: string;
  at: string;
  kind: FeedTransfer['phase'];
  reason: string;
  amount: number;
  from: { account: string; discordId: string | null; name: string; balance: number | null };
  to: { account: string; discordId: string | null; name: string; balance: number | null };
  /** For holds and the post/void transfers that resolve them: the hold and its state after this event. */
  hold: { id: string; state: string } | null;
  reverses: string | null;
  ref: Record<string, unknown> | null;
  actorId: string | null;
}

export function toFeedEvent(t: FeedTransfer): FeedEvent {
  const holdState =
    t.phase === 'pending' ? 'pending' : t.phase === 'post' ? 'posted' : t.phase === 'void' ? 'voided' : null;
  return {
    id: t.id,
    at: t.createdAt.toISOString(),
    kind: t.phase,
    reason: t.reason,
    amount: t.amount,
    from: {
      account: t.from.accountId,
      discordId: t.from.discordId,
      name: t.from.name,
      balance: t.fromBalanceAfter,
    },
    to: { account: t.to.accountId, discordId: t.to.discordId, name: t.to.name, balance: t.toBalanceAfter },
    hold: t.holdId !== null && holdState !== null ? { id: t.holdId, state: holdState } : null,
    reverses: t.reversesId,
    ref: t.ref,
    actorId: t.actor?.userId ?? null,
  };
}

/** Records a posted Discord message and moves the Discord cursor past it, in one transaction. */
export async function recordFeedMessage(
  db: Db,
  cursor: FeedCursor,
  message: { channelId: string; messageId: string; nonce: string },
): Promise<void> {
  const plan = cursor.plan!;
  await transact(db, async (trx) => {
    await trx
      .insertInto('feed_messages')
      .values({
        channel_id: message.channelId,
        message_id: message.messageId,
        first_transfer_id: plan.first,
        last_transfer_id: plan.last,
        mode: plan.mode,
        nonce: message.nonce,
      })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute();
    await advanceCursor(trx, 'discord', cursor.lastId, BigInt(plan.last));
  });
}

/** The feed message that shows a transfer, if it was posted. Messages cover disjoint id ranges. */
export async function feedMessageFor(db: Db, transferId: string) {
  if (!/^\d{1,19}$/.test(transferId)) return undefined;
  const message = await db
    .selectFrom('feed_messages')
    .select(['id', 'channel_id', 'message_id', 'first_transfer_id', 'last_transfer_id', 'mode'])
    .where('last_transfer_id', '>=', transferId)
    .orderBy('last_transfer_id')
    .limit(1)
    .executeTakeFirst();
  return message && BigInt(message.first_transfer_id) <= BigInt(transferId) ? message : undefined;
}

/** An admin action shown under a transaction on the feed. */
export interface FeedAnnotation {
  transferId: string;
  action: string;
  target: { type: string; id: string };
  actorDiscordId: string | null;
  reason: string | null;
  /** The note's text for `tx.note`; what the action produced otherwise (e.g. the refund's amount). */
  after: Record<string, unknown> | null;
  at: Date;
}

/**
 * Admin actions on the given transactions, oldest first, grouped by transaction: refunds and notes on the
 * transfer itself, and actions on the order or listing it belongs to.
 */
export async function feedAnnotations(
  db: Db,
  transfers: FeedTransfer[],
): Promise<Map<string, FeedAnnotation[]>> {
  const out = new Map<string, FeedAnnotation[]>();
  const byTarget = new Map<string, string[]>();
  const link = (type: string, id: string, transferId: string) => {
    const key = `${type}:${id}`;
    byTarget.set(key, [...(byTarget.get(key) ?? []), transferId]);
  };
  for (const t of transfers) {
    link('transfer', t.id, t.id);
    if (t.order) link('order', t.order.id, t.id);
    if (t.listing) link('listing', t.listing.id, t.id);
  }
  if (byTarget.size === 0) return out;
  const targets = [...byTarget.keys()].map((k) => k.split(':') as [string, string]);
  const rows = await db
    .selectFrom('audit_log as a')
    .leftJoin('users as u', 'u.id', 'a.actor_id')
    .select(['a.target_type', 'a.target_id', 'a.action', 'u.discord_id', 'a.reason', 'a.after', 'a.at'])
    .where((eb) =>
      eb.or(
        targets.map(([type, id]) => eb.and([eb('a.target_type', '=', type), eb('a.target_id', '=', id)])),
      ),
    )
    .orderBy('a.id')
    .execute();
  for (const r of rows) {
    for (const transferId of byTarget.get(`${r.target_type}:${r.target_id}`) ?? []) {
      const list = out.get(transferId) ?? [];
      list.push({
        transferId,
        action: r.action,
        target: { type: r.target_type!, id: r.target_id! },
        actorDiscordId: r.discord_id,
        reason: r.reason,
        after: (r.after as Record<string, unknown> | null) ?? null,
        at: r.at as Date,
      });
      out.set(transferId, list);
    }
  }
  return out;
}

import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/client.ts';
import { recentAuditForUser, type AuditEntry } from './audit.ts';
import { AppError } from './errors.ts';
import {
  feedAnnotations,
  selectFeedTransfers,
  toFeedEvent,
  type FeedAnnotation,
  type FeedEvent,
  type FeedTransfer,
} from './feed.ts';
import { escapeLike } from './market/catalog.ts';
import { ordersForUser } from './market/orders.ts';
import {
  LISTING_COLUMNS,
  ORDER_COLUMNS,
  toListing,
  toOrder,
  type Listing,
  type ListingState,
  type Order,
  type OrderState,
} from './market/types.ts';
import { readRoleMap, requirePermission, type Actor, type RoleMap } from './rbac.ts';
import { walletSummary, type WalletSummary } from './wallet.ts';

/** A keyset page: at most `limit` rows older than `before` (an id), newest first. */
export interface PageRequest {
  before?: string | undefined;
  limit: number;
}

const ID = /^[0-9]{1,18}$/;
const userNotFound = () => new AppError('user_not_found', 'No such user.', 404);

export interface UserListItem {
  id: string;
  discordId: string;
  username: string;
  globalName: string | null;
  balance: number;
  frozen: boolean;
  createdAt: Date;
}

/**
 * Users whose name contains `q` (username or display name, any case; a trigram index serves it), or whose
 * Coinhub or Discord id is `q`; everyone without `q`. Newest first, `limit + 1` rows for the pager.
 */
export async function searchUsers(
  db: Db,
  reader: Actor,
  query: { q?: string | undefined } & PageRequest,
): Promise<UserListItem[]> {
  requirePermission(reader, 'feed.view');
  const q = query.q?.trim().toLowerCase().slice(0, 100) ?? '';
  let select = db
    .selectFrom('users as u')
    .innerJoin('accounts as a', 'a.id', 'u.id')
    .select(['u.id', 'u.discord_id', 'u.username', 'u.global_name', 'u.frozen', 'u.created_at', 'a.balance']);
  if (q !== '') {
    const pattern = `%${escapeLike(q)}%`;
    select = select.where((eb) =>
      eb.or([
        sql<boolean>`(lower(u.username) || ' ' || lower(coalesce(u.global_name, ''))) like ${pattern}`,
        ...(ID.test(q) ? [eb('u.id', '=', q)] : []),
        ...(/^[0-9]{15,21}$/.test(q) ? [eb('u.discord_id', '=', q)] : []),
      ]),
    );
  }
  if (query.before !== undefined) select = select.where('u.id', '<', query.before);
  const rows = await select
    .orderBy('u.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  return rows.map((r) => ({
    id: String(r.id),
    discordId: r.discord_id,
    username: r.username,
    globalName: r.global_name,
    balance: Number(r.balance),
    frozen: r.frozen,
    createdAt: r.created_at,
  }));
}

export interface UserProfile {
  id: string;
  discordId: string;
  username: string;
  globalName: string | null;
  avatar: string | null;
  createdAt: Date;
  frozen: { reason: string | null; at: Date | null; byUserId: string | null } | null;
  minecraft: { uuid: string; name: string | null; linkedAt: Date | null } | null;
  wallet: WalletSummary;
  orders: Order[];
  audit: AuditEntry[];
}

/** A user's profile for the panel: wallet (balance, held, streak, recent), frozen state, orders and audit. */
export async function userProfile(db: Db, reader: Actor, userId: string): Promise<UserProfile> {
  requirePermission(reader, 'feed.view');
  if (!ID.test(userId)) throw userNotFound();
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!user) throw userNotFound();
  const [wallet, orders, audit] = await Promise.all([
    walletSummary(db, userId, 10),
    ordersForUser(db, userId, { limit: 10 }),
    recentAuditForUser(db, userId, 20),
  ]);
  return {
    id: String(user.id),
    discordId: user.discord_id,
    username: user.username,
    globalName: user.global_name,
    avatar: user.avatar,
    createdAt: user.created_at,
    frozen: user.frozen
      ? {
          reason: user.frozen_reason,
          at: user.frozen_at,
          byUserId: user.frozen_by === null ? null : String(user.frozen_by),
        }
      : null,
    minecraft:
      user.minecraft_uuid === null
        ? null
        : { uuid: user.minecraft_uuid, name: user.minecraft_name, linkedAt: user.minecraft_linked_at },
    wallet,
    orders,
    audit,
  };
}

export interface TransferFilter extends PageRequest {
  /** Transfers from or to this user's wallet. */
  userId?: string | undefined;
  kind?: FeedTransfer['phase'] | undefined;
  reason?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** Transfers matching the filter, newest first, `limit + 1` of them for the pager. */
export async function listTransfers(db: Db, reader: Actor, f: TransferFilter): Promise<FeedTransfer[]> {
  requirePermission(reader, 'feed.view');
  const where: RawBuilder<unknown>[] = [sql`true`];
  if (f.userId !== undefined) {
    if (!ID.test(f.userId)) return [];
    where.push(sql`(t.debit_account_id = ${f.userId} or t.credit_account_id = ${f.userId})`);
  }
  if (f.kind !== undefined) where.push(sql`t.phase = ${f.kind}`);
  if (f.reason !== undefined) where.push(sql`t.reason = ${f.reason}`);
  if (f.from !== undefined) where.push(sql`t.created_at >= ${f.from}`);
  if (f.to !== undefined) where.push(sql`t.created_at < ${f.to}`);
  if (f.before !== undefined) where.push(sql`t.id < ${f.before}`);
  return selectFeedTransfers(db, sql.join(where, sql` and `), f.limit + 1, 'desc');
}

export interface TransferDetail {
  transfer: FeedTransfer;
  /** Transfers that resolve this hold (post, void) or reverse this transfer, oldest first. */
  related: FeedTransfer[];
  /** Admin actions on the transfer, its order and its listing, oldest first. */
  actions: FeedAnnotation[];
}

/** One transfer with its references: the transfers that resolve or reverse it, and what admins did to it. */
export async function transferDetail(db: Db, reader: Actor, id: string): Promise<TransferDetail> {
  requirePermission(reader, 'feed.view');
  const notFound = new AppError('transfer_not_found', 'No such transaction.', 404);
  if (!ID.test(id)) throw notFound;
  const [transfer] = await selectFeedTransfers(db, sql`t.id = ${id}`, 1);
  if (!transfer) throw notFound;
  const related = await selectFeedTransfers(
    db,
    sql`(t.pending_id = ${id} or t.reverses_id = ${id}) and t.id <> ${id}`,
    1000,
  );
  const actions = await feedAnnotations(db, [transfer]);
  return { transfer, related, actions: actions.get(transfer.id) ?? [] };
}

export interface ListingFilter extends PageRequest {
  state?: ListingState | undefined;
  sellerId?: string | undefined;
  official?: boolean | undefined;
  catalogItemId?: string | undefined;
}

/** Every listing matching the filter (any state), newest first, `limit + 1` for the pager. */
export async function listListings(db: Db, reader: Actor, f: ListingFilter): Promise<Listing[]> {
  requirePermission(reader, 'feed.view');
  let q = db.selectFrom('listings').select(LISTING_COLUMNS);
  if (f.state !== undefined) q = q.where('state', '=', f.state);
  if (f.sellerId !== undefined) q = q.where('seller_id', '=', f.sellerId);
  if (f.official !== undefined) q = q.where('official', '=', f.official);
  if (f.catalogItemId !== undefined) q = q.where('catalog_item_id', '=', f.catalogItemId);
  if (f.before !== undefined) q = q.where('id', '<', f.before);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  return rows.map(toListing);
}

export interface OrderFilter extends PageRequest {
  state?: OrderState | undefined;
  buyerId?: string | undefined;
  sellerId?: string | undefined;
  listingId?: string | undefined;
}

/** Every order matching the filter, newest first, `limit + 1` for the pager. */
export async function listOrders(db: Db, reader: Actor, f: OrderFilter): Promise<Order[]> {
  requirePermission(reader, 'feed.view');
  let q = db.selectFrom('orders').select(ORDER_COLUMNS);
  if (f.state !== undefined) q = q.where('state', '=', f.state);
  if (f.buyerId !== undefined) q = q.where('buyer_id', '=', f.buyerId);
  if (f.sellerId !== undefined) q = q.where('seller_id', '=', f.sellerId);
  if (f.listingId !== undefined) q = q.where('listing_id', '=', f.listingId);
  if (f.before !== undefined) q = q.where('id', '<', f.before);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  return rows.map(toOrder);
}

export async function orderById(db: Db, reader: Actor, id: string): Promise<Order> {
  requirePermission(reader, 'feed.view');
  const row = ID.test(id)
    ? await db.selectFrom('orders').select(ORDER_COLUMNS).where('id', '=', id).executeTakeFirst()
    : undefined;
  if (!row) throw new AppError('order_not_found', 'No such order.', 404);
  return toOrder(row);
}

export interface PricePoint {
  orderId: string;
  unitPrice: number;
  completedAt: Date;
}

export interface PriceHistory {
  catalogItemId: string;
  basePrice: number;
  /** The reference price the guards use now, and how many sales it rests on (null: the base price is used). */
  referencePrice: number | null;
  salesCount: number;
  /** Completed, not refunded sales, newest first. */
  sales: PricePoint[];
}

/** A catalog item's recent sale prices and its current reference price. */
export async function priceHistory(
  db: Db,
  reader: Actor,
  catalogItemId: string,
  limit = 100,
): Promise<PriceHistory> {
  requirePermission(reader, 'feed.view');
  const item = ID.test(catalogItemId)
    ? await db
        .selectFrom('catalog_items as c')
        .leftJoin('price_refs as r', 'r.catalog_item_id', 'c.id')
        .select(['c.id', 'c.base_price', 'r.reference_price', 'r.sales_count'])
        .where('c.id', '=', catalogItemId)
        .executeTakeFirst()
    : undefined;
  if (!item) throw new AppError('catalog_item_not_found', 'No such catalog item.', 404);
  const sales = await db
    .selectFrom('price_sales')
    .select(['order_id', 'unit_price', 'completed_at'])
    .where('catalog_item_id', '=', catalogItemId)
    .where('voided', '=', false)
    .orderBy('completed_at', 'desc')
    .limit(limit)
    .execute();
  return {
    catalogItemId: String(item.id),
    basePrice: Number(item.base_price),
    referencePrice: item.reference_price === null ? null : Number(item.reference_price),
    salesCount: item.sales_count ?? 0,
    sales: sales.map((s) => ({
      orderId: String(s.order_id),
      unitPrice: Number(s.unit_price),
      completedAt: s.completed_at,
    })),
  };
}

export interface AuditFilter extends PageRequest {
  actorId?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  action?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface AuditRow extends AuditEntry {
  actorDiscordId: string | null;
  actorName: string | null;
}

/** Audit rows matching the filter, newest first, `limit + 1` for the pager. */
export async function listAudit(db: Db, reader: Actor, f: AuditFilter): Promise<AuditRow[]> {
  requirePermission(reader, 'audit.view');
  let q = db
    .selectFrom('audit_log as a')
    .leftJoin('users as u', 'u.id', 'a.actor_id')
    .selectAll('a')
    .select(['u.discord_id', 'u.username']);
  if (f.actorId !== undefined) q = q.where('a.actor_id', '=', f.actorId);
  if (f.targetType !== undefined) q = q.where('a.target_type', '=', f.targetType);
  if (f.targetId !== undefined) q = q.where('a.target_id', '=', f.targetId);
  if (f.action !== undefined) q = q.where('a.action', '=', f.action);
  if (f.from !== undefined) q = q.where('a.at', '>=', f.from);
  if (f.to !== undefined) q = q.where('a.at', '<', f.to);
  if (f.before !== undefined) q = q.where('a.id', '<', f.before);
  const rows = await q
    .orderBy('a.id', 'desc')
    .limit(f.limit + 1)
    .execute();
  return rows.map((r) => ({
    id: String(r.id),
    at: r.at,
    actorId: r.actor_id === null ? null : String(r.actor_id),
    actorRole: r.actor_role,
    action: r.action,
    target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
    before: r.before,
    after: r.after,
    reason: r.reason,
    source: r.source,
    requestId: r.request_id,
    actorDiscordId: r.discord_id,
    actorName: r.username,
  }));
}

/** The guild's role map as stored (malformed counts as empty). */
export async function roleMapOf(db: Db, reader: Actor, guildId: string): Promise<RoleMap> {
  requirePermission(reader, 'feed.view');
  return readRoleMap(db, guildId);
}

/** Refuses a reader who may not watch the live transaction feed. */
export function requireFeedAccess(reader: Actor): void {
  requirePermission(reader, 'feed.view');
}

/** The most transfers a reconnecting stream client is sent from the database; further behind, it resets. */
export const REPLAY_LIMIT = 1000;

export type FeedReplay =
  | { kind: 'events'; events: FeedEvent[] }
  /** Too far behind to replay: the client reloads what it shows and continues from `lastId`. */
  | { kind: 'reset'; lastId: string };

/**
 * The feed events a stream client missed: transfers after `after`, up to `before` (exclusive) or, without it,
 * up to what the feed relay has published so far, in id order. More than REPLAY_LIMIT of them is a reset.
 */
export async function feedReplay(
  db: Db,
  reader: Actor,
  range: { after: string; before?: string | undefined },
): Promise<FeedReplay> {
  requirePermission(reader, 'feed.view');
  let upper: RawBuilder<unknown>;
  let lastId: string;
  if (range.before !== undefined) {
    upper = sql`t.id < ${range.before}`;
    lastId = String(BigInt(range.before) - 1n);
  } else {
    const cursor = await db
      .selectFrom('feed_cursors')
      .select('last_id')
      .where('consumer', '=', 'redis')
      .executeTakeFirst();
    lastId = cursor ? String(cursor.last_id) : '0';
    upper = sql`t.id <= ${lastId}`;
  }
  const beyond = await sql<{ id: string }>`
    select t.id from transfers t where t.id > ${range.after} and ${upper}
    order by t.id offset ${REPLAY_LIMIT} limit 1`.execute(db);
  if (beyond.rows.length > 0) return { kind: 'reset', lastId };
  const transfers = await selectFeedTransfers(db, sql`t.id > ${range.after} and ${upper}`, REPLAY_LIMIT);
  return { kind: 'events', events: transfers.map(toFeedEvent) };
}

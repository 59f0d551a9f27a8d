import { sql } from 'kysely';
import type { Db, Tx } from '../../db/client.ts';
import type { VoucherState } from '../../db/schema.ts';
import { auditAction } from '../audit.ts';
import { AppError } from '../errors.ts';
import { requireReason } from '../market/listings.ts';
import type { Market } from '../market/market.ts';
import type { Order } from '../market/types.ts';
import { requirePermission, type Actor } from '../rbac.ts';
import { newVoucherCode } from './codes.ts';

export interface Voucher {
  id: string;
  orderId: string;
  code: string;
  buyerId: string;
  catalogItemId: string;
  quantity: number;
  state: VoucherState;
  expiresAt: Date;
  redeemedAt: Date | null;
  playerUuid: string | null;
  playerName: string | null;
  attempts: number;
  lastError: string | null;
  deliveredAt: Date | null;
}

const COLUMNS = [
  'id',
  'order_id',
  'code',
  'buyer_id',
  'catalog_item_id',
  'quantity',
  'state',
  'expires_at',
  'redeemed_at',
  'player_uuid',
  'player_name',
  'attempts',
  'last_error',
  'delivered_at',
] as const;

interface Row {
  id: string;
  order_id: string;
  code: string;
  buyer_id: string;
  catalog_item_id: string;
  quantity: number;
  state: VoucherState;
  expires_at: Date;
  redeemed_at: Date | null;
  player_uuid: string | null;
  player_name: string | null;
  attempts: number;
  last_error: string | null;
  delivered_at: Date | null;
}

const toVoucher = (r: Row): Voucher => ({
  id: String(r.id),
  orderId: String(r.order_id),
  code: r.code,
  buyerId: String(r.buyer_id),
  catalogItemId: String(r.catalog_item_id),
  quantity: r.quantity,
  state: r.state,
  expiresAt: new Date(r.expires_at),
  redeemedAt: r.redeemed_at && new Date(r.redeemed_at),
  playerUuid: r.player_uuid,
  playerName: r.player_name,
  attempts: r.attempts,
  lastError: r.last_error,
  deliveredAt: r.delivered_at && new Date(r.delivered_at),
});

const HOUR = 3_600_000;
/** A delivery never starts this close to its voucher's expiry, so a refund at the expiry never meets one in flight. */
export const DELIVERY_MARGIN_MS = 60_000;

/**
 * The voucher of an order for a `minecraft_item` catalog item, issued once per order (a repeat returns the
 * first). Its code is unguessable and single use; it expires after `timeoutH` hours (never after the ledger
 * hold's own expiry), and the order's escrow expiry moves to the same instant, so an unredeemed voucher is
 * refunded by the market's expiry job and sweeper. Returns null when the order is not for a Minecraft item.
 */
export async function issueVoucher(
  db: Db,
  order: Order,
  timeoutH: number,
  now: Date,
): Promise<{ voucher: Voucher; order: Order } | null> {
  return db.transaction().execute(async (trx) => {
    const found = await trx
      .selectFrom('orders as o')
      .innerJoin('listings as l', 'l.id', 'o.listing_id')
      .innerJoin('catalog_items as c', 'c.id', 'l.catalog_item_id')
      .innerJoin('transfers as h', 'h.id', 'o.hold_transfer_id')
      .select(['c.id as item_id', 'c.kind', 'h.expires_at as hold_expires_at'])
      .where('o.id', '=', order.id)
      .executeTakeFirst();
    if (!found || found.kind !== 'minecraft_item') return null;
    const expiresAt = new Date(
      Math.min(now.getTime() + timeoutH * HOUR, found.hold_expires_at!.getTime() - HOUR),
    );
    let row: Row | undefined;
    while (!row) {
      const inserted = await sql<{ id: string }>`
        insert into minecraft_vouchers (order_id, code, buyer_id, catalog_item_id, quantity, expires_at,
                                        created_at, updated_at)
        values (${order.id}, ${newVoucherCode()}, ${order.buyerId}, ${found.item_id}, ${order.quantity},
                ${expiresAt}, ${now}, ${now})
        on conflict do nothing
        returning id`.execute(trx);
      row = await trx
        .selectFrom('minecraft_vouchers')
        .select(COLUMNS)
        .where('order_id', '=', order.id)
        .executeTakeFirst();
      // Neither inserted nor found: the random code was taken; draw another.
      if (!row && inserted.rows.length > 0) throw new Error('voucher vanished after insert');
    }
    const updated = await trx
      .updateTable('orders')
      .set({ expires_at: row.expires_at, updated_at: now })
      .where('id', '=', order.id)
      .where('state', '=', 'pending')
      .where('expires_at', '!=', row.expires_at)
      .returning('expires_at')
      .executeTakeFirst();
    return {
      voucher: toVoucher(row),
      order: updated ? { ...order, expiresAt: new Date(updated.expires_at) } : order,
    };
  });
}

/** The vouchers of these orders, by order id. */
export async function vouchersForOrders(db: Db | Tx, orderIds: string[]): Promise<Map<string, Voucher>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('minecraft_vouchers')
    .select(COLUMNS)
    .where('order_id', 'in', orderIds)
    .execute();
  return new Map(rows.map((r) => [String(r.order_id), toVoucher(r)]));
}

export async function getVoucher(db: Db | Tx, id: string): Promise<Voucher | undefined> {
  if (!/^[0-9]{1,18}$/.test(id)) return undefined;
  const row = await db
    .selectFrom('minecraft_vouchers')
    .select(COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toVoucher(row);
}

const refusal = (code: string, message: string, status: AppError['status'] = 409) =>
  new AppError(code, message, status);

/** Locks a voucher with its order's state and its buyer's link, by code or id. */
async function lockVoucher(trx: Tx, by: { code: string } | { id: string }) {
  let q = trx
    .selectFrom('minecraft_vouchers as v')
    .innerJoin('orders as o', 'o.id', 'v.order_id')
    .innerJoin('users as u', 'u.id', 'v.buyer_id')
    .select([
      ...COLUMNS.map((c) => `v.${c}` as const),
      'o.state as order_state',
      'u.minecraft_uuid as buyer_uuid',
      'u.minecraft_name as buyer_name',
    ]);
  q = 'code' in by ? q.where('v.code', '=', by.code) : q.where('v.id', '=', by.id);
  return q.forUpdate('v').executeTakeFirst();
}

/**
 * Redeems a voucher for the player `uuid` inside the caller's transaction: only the buyer's linked account may,
 * once, before the voucher expires and while its order is not refunded. The voucher's row lock makes racing
 * redemptions take turns: the first queues the delivery, the rest find it redeemed.
 */
export async function redeemVoucher(
  trx: Tx,
  by: { code: string } | { id: string },
  player: { uuid: string; name: string },
  now: Date,
): Promise<Voucher> {
  const v = await lockVoucher(trx, by);
  if (!v)
    throw refusal(
      'unknown_voucher',
      'That voucher code does not exist. Check it in /orders on Discord.',
      404,
    );
  if (v.order_state === 'refunded') throw refusal('voucher_refunded', 'That voucher was refunded.');
  if (v.state !== 'issued') {
    throw refusal(
      'voucher_used',
      v.state === 'delivered'
        ? 'That voucher was already delivered.'
        : 'That voucher was already redeemed; the delivery is on its way.',
    );
  }
  if (v.order_state === 'pending' && v.expires_at <= now)
    throw refusal('voucher_expired', 'That voucher has expired; its coins are being refunded.');
  if (v.buyer_uuid !== player.uuid) {
    throw refusal(
      'not_your_voucher',
      "Only the buyer's linked Minecraft account can redeem this voucher (link yours with /link in Discord).",
      403,
    );
  }
  const row = await trx
    .updateTable('minecraft_vouchers')
    .set({
      state: 'queued',
      redeemed_at: now,
      player_uuid: player.uuid,
      player_name: player.name,
      updated_at: now,
    })
    .where('id', '=', v.id)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toVoucher(row);
}

/** "Deliver now" from Discord: the buyer redeems their own voucher for their linked account. */
export async function redeemForBuyer(db: Db, voucherId: string, userId: string, now: Date): Promise<Voucher> {
  return db.transaction().execute(async (trx) => {
    const v = await lockVoucher(trx, { id: voucherId });
    if (!v || String(v.buyer_id) !== userId)
      throw refusal('unknown_voucher', 'That is not your voucher.', 404);
    if (!v.buyer_uuid || !v.buyer_name) {
      throw refusal('not_linked', 'Link your Minecraft account with /link first, then deliver.', 409);
    }
    return redeemVoucher(trx, { id: voucherId }, { uuid: v.buyer_uuid, name: v.buyer_name }, now);
  });
}

/** What a delivery job needs: the command template and who gets it. */
export interface DeliveryClaim {
  voucher: Voucher;
  template: string;
  orderState: Order['state'];
}

/** The voucher with its template and order state, for the delivery job's first look (no claim). */
export async function deliveryOf(db: Db, voucherId: string): Promise<DeliveryClaim | undefined> {
  const row = await db
    .selectFrom('minecraft_vouchers as v')
    .innerJoin('catalog_items as c', 'c.id', 'v.catalog_item_id')
    .innerJoin('orders as o', 'o.id', 'v.order_id')
    .select([...COLUMNS.map((c) => `v.${c}` as const), 'c.minecraft_command', 'o.state as order_state'])
    .where('v.id', '=', voucherId)
    .executeTakeFirst();
  return row && { voucher: toVoucher(row), template: row.minecraft_command!, orderState: row.order_state };
}

/**
 * Claims a queued voucher for one call to the server: `queued` → `sending`, only while its order can still be
 * completed (not refunded, and a pending one not within DELIVERY_MARGIN_MS of its expiry). Null when another
 * job has it or it may no longer be delivered.
 */
export async function claimDelivery(db: Db, voucherId: string, now: Date): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    update minecraft_vouchers v set state = 'sending', sending_at = ${now}, attempts = v.attempts + 1,
           updated_at = ${now}
    from orders o
    where v.id = ${voucherId} and v.state = 'queued' and o.id = v.order_id
      and (o.state in ('delivered', 'completed', 'disputed')
           or (o.state = 'pending' and o.expires_at > ${new Date(now.getTime() + DELIVERY_MARGIN_MS)}))
    returning v.id`.execute(db);
  return rows.length > 0;
}

/** Moves a voucher from one delivery state to another; false when it was not in `from` (someone else moved it). */
export async function moveVoucher(
  db: Db | Tx,
  voucherId: string,
  from: VoucherState[],
  to: VoucherState,
  now: Date,
  lastError?: string | null,
): Promise<boolean> {
  const row = await db
    .updateTable('minecraft_vouchers')
    .set({
      state: to,
      updated_at: now,
      ...(to === 'delivered' ? { delivered_at: now, last_error: null } : {}),
      ...(lastError === undefined ? {} : { last_error: lastError?.slice(0, 500) ?? null }),
    })
    .where('id', '=', voucherId)
    .where('state', 'in', from)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** A player joined: their vouchers waiting for them are queued again; returns their ids. */
export async function wakeWaitingVouchers(trx: Tx, uuid: string, now: Date): Promise<string[]> {
  const rows = await trx
    .updateTable('minecraft_vouchers')
    .set({ state: 'queued', updated_at: now })
    .where('player_uuid', '=', uuid)
    .where('state', '=', 'waiting')
    .returning('id')
    .execute();
  return rows.map((r) => String(r.id));
}

/** How long a `sending` claim may last before its outcome counts as unknown (the call has long timed out). */
export const STUCK_SENDING_MS = 2 * 60_000;
/** A queued voucher untouched this long lost its job (Redis down, retries exhausted): it gets a new one. */
export const REQUEUE_AFTER_MS = 5 * 60_000;

export interface DueVouchers {
  /** Queued long ago while their order can still complete: queue a delivery job again. */
  requeue: string[];
  /** Delivered vouchers whose order is still pending (the completion did not commit): complete them. */
  complete: { voucherId: string; orderId: string }[];
  /** `sending` claims whose worker vanished, now `failed` for an admin to check and retry or refund. */
  stuck: string[];
}

/** What the sweeper has to do now. Stuck claims are moved to `failed` here. */
export async function dueVouchers(db: Db, now: Date, limit = 500): Promise<DueVouchers> {
  const stuck = await db
    .updateTable('minecraft_vouchers')
    .set({
      state: 'failed',
      updated_at: now,
      last_error: 'no answer from the delivery: check in game, then retry or refund',
    })
    .where('state', '=', 'sending')
    .where('sending_at', '<', new Date(now.getTime() - STUCK_SENDING_MS))
    .returning('id')
    .execute();
  const [requeue, complete] = await Promise.all([
    db
      .selectFrom('minecraft_vouchers as v')
      .innerJoin('orders as o', 'o.id', 'v.order_id')
      .select('v.id')
      .where('v.state', '=', 'queued')
      .where('v.updated_at', '<', new Date(now.getTime() - REQUEUE_AFTER_MS))
      .where('o.state', '!=', 'refunded')
      .orderBy('v.id')
      .limit(limit)
      .execute(),
    db
      .selectFrom('minecraft_vouchers as v')
      .innerJoin('orders as o', 'o.id', 'v.order_id')
      .select(['v.id', 'v.order_id'])
      .where('v.state', '=', 'delivered')
      .where('o.state', '=', 'pending')
      .orderBy('v.id')
      .limit(limit)
      .execute(),
  ]);
  return {
    requeue: requeue.map((r) => String(r.id)),
    complete: complete.map((r) => ({ voucherId: String(r.id), orderId: String(r.order_id) })),
    stuck: stuck.map((r) => String(r.id)),
  };
}

export interface DeliveryRow extends Voucher {
  orderState: Order['state'];
  buyerDiscordId: string;
  itemName: string;
}

/** Redeemed deliveries not done yet (queued, waiting for the player, sending, failed), oldest first. */
export async function listDeliveries(db: Db, actor: Actor, limit = 20): Promise<DeliveryRow[]> {
  requirePermission(actor, 'feed.view');
  const rows = await db
    .selectFrom('minecraft_vouchers as v')
    .innerJoin('orders as o', 'o.id', 'v.order_id')
    .innerJoin('users as u', 'u.id', 'v.buyer_id')
    .innerJoin('catalog_items as c', 'c.id', 'v.catalog_item_id')
    .select([...COLUMNS.map((c) => `v.${c}` as const), 'o.state as order_state', 'u.discord_id', 'c.name'])
    .where('v.state', 'in', ['queued', 'waiting', 'sending', 'failed'])
    .where('o.state', '!=', 'refunded')
    .orderBy('v.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    ...toVoucher(r),
    orderState: r.order_state,
    buyerDiscordId: r.discord_id,
    itemName: r.name,
  }));
}

const notOpen = () =>
  new AppError(
    'delivery_not_open',
    'That delivery is not open: it was delivered, refunded or never redeemed.',
    409,
  );

/** An admin queues a failed (or waiting) delivery again; audited. Returns the voucher to queue. */
export async function retryDelivery(db: Db, actor: Actor, voucherId: string, now: Date): Promise<Voucher> {
  requirePermission(actor, 'order.fulfil');
  return db.transaction().execute(async (trx) => {
    const v = await lockVoucher(trx, { id: voucherId });
    if (!v || !['failed', 'waiting', 'queued'].includes(v.state) || v.order_state === 'refunded')
      throw notOpen();
    await moveVoucher(trx, voucherId, ['failed', 'waiting', 'queued'], 'queued', now, null);
    await auditAction(trx, actor, {
      action: 'minecraft.delivery.retry',
      target: { type: 'order', id: String(v.order_id) },
      before: { state: v.state, lastError: v.last_error },
      after: { state: 'queued' },
      reason: null,
    });
    return toVoucher({ ...v, state: 'queued' });
  });
}

/**
 * An admin refunds an open delivery: the voucher can no longer be claimed (it goes to `failed`), then the
 * market refunds the order (audited there). A delivery being sent right now cannot be refunded.
 */
export async function refundDelivery(
  db: Db,
  market: Market,
  actor: Actor,
  voucherId: string,
  reason: string,
  now: Date,
) {
  requirePermission(actor, 'tx.refund');
  const why = requireReason(reason);
  const found = await deliveryOf(db, voucherId);
  if (!found || found.orderState === 'refunded' || found.orderState === 'completed') throw notOpen();
  const v = found.voucher;
  const stopped = await moveVoucher(
    db,
    voucherId,
    ['issued', 'queued', 'waiting', 'failed'],
    'failed',
    now,
    `refunded by an admin: ${why}`.slice(0, 500),
  );
  if (!stopped) {
    throw v.state === 'sending'
      ? new AppError(
          'delivery_in_flight',
          'That delivery is being sent right now; look again in a minute.',
          409,
        )
      : notOpen();
  }
  try {
    return await market.adminRefund(v.orderId, actor, why);
  } catch (err) {
    // The order was not refunded: the voucher goes back to where it was.
    await moveVoucher(db, voucherId, ['failed'], v.state, now, v.lastError);
    throw err;
  }
}

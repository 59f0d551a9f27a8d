import type { Order } from '../economy/market/types.ts';
import type { OrderEvent } from '../discord/views/market.ts';
import {
  grantRoleJob,
  marketCompleteJob,
  marketExpireJob,
  orderNoticeJob,
  revokeRoleJob,
  shopRefreshJob,
} from './definitions.ts';
import type { Queues } from './queues.ts';

/**
 * Producers' side of the market's jobs. Each resolves false instead of throwing when Redis refuses: the
 * order or listing is already safe in the database, and the sweeper settles overdue orders by itself.
 */

/** Runs an enqueue; false instead of an error when Redis refuses (the database is the truth, a sweeper follows). */
export const attempt = async (fn: () => Promise<void>): Promise<boolean> => {
  try {
    await fn();
    return true;
  } catch {
    return false;
  }
};

/**
 * Schedules the delayed job for an order's next deadline: the escrow expiry while it is pending, the end of
 * the confirm window once delivered. The job id is the order's, so a retried call schedules nothing twice.
 */
export function scheduleOrderTimer(queues: Queues, order: Order, now: Date): Promise<boolean> {
  const next =
    order.state === 'pending'
      ? { def: marketExpireJob, at: order.expiresAt, jobId: `market-expire-${order.id}` }
      : order.state === 'delivered' && order.confirmDeadline
        ? { def: marketCompleteJob, at: order.confirmDeadline, jobId: `market-complete-${order.id}` }
        : null;
  if (!next) return Promise.resolve(true);
  return attempt(() =>
    queues.enqueue(
      next.def,
      { orderId: order.id },
      { jobId: next.jobId, delay: Math.max(0, next.at.getTime() - now.getTime()) },
    ),
  );
}

const SHOP_COALESCE_MS = 1000;

/**
 * Asks for a listing's #shop message to be posted or edited. Changes within the same second share one job
 * (its id names the listing and the second) that runs just after that second and reads the latest state, so
 * fifty purchases in a second make one edit; a change after the job has read belongs to the next second.
 */
export function refreshShopListing(queues: Queues, listingId: string, now: Date): Promise<boolean> {
  const bucket = Math.floor(now.getTime() / SHOP_COALESCE_MS);
  const delay = (bucket + 1) * SHOP_COALESCE_MS - now.getTime() + 100;
  return attempt(() =>
    queues.enqueue(shopRefreshJob, { listingId }, { jobId: `shop-${listingId}-${bucket}`, delay }),
  );
}

/** DMs both sides (an official listing has no seller to tell), once per order and event. */
export async function notifyOrder(queues: Queues, order: Order, event: OrderEvent): Promise<boolean> {
  const parties = order.sellerId === null ? (['buyer'] as const) : (['buyer', 'seller'] as const);
  const sent = await Promise.all(
    parties.map((to) =>
      attempt(() =>
        queues.enqueue(
          orderNoticeJob,
          { orderId: order.id, event, to },
          { jobId: `notice-${order.id}-${event}-${to}` },
        ),
      ),
    ),
  );
  return sent.every(Boolean);
}

/** Delivers a catalog role automatically; the job does nothing for other kinds of items. */
export function grantBoughtRole(queues: Queues, order: Order): Promise<boolean> {
  return attempt(() => queues.enqueue(grantRoleJob, { orderId: order.id }, { jobId: `grant-${order.id}` }));
}

/**
 * After a refund, takes back a catalog role the order may have granted: it was delivered, or its grant job was
 * cleared to add the role (`roleGrantedAt`); the job does nothing for other kinds of items. Once per order.
 */
export function revokeRefundedRole(queues: Queues, order: Order): Promise<boolean> {
  const granted = order.deliveredAt !== null || order.roleGrantedAt !== null;
  if (order.state !== 'refunded' || !granted) return Promise.resolve(true);
  return attempt(() => queues.enqueue(revokeRoleJob, { orderId: order.id }, { jobId: `revoke-${order.id}` }));
}

/**
 * Everything that follows an order's change, whoever made it: its next timer, the DMs, the #shop message when
 * stock moved, and a role taken back when the order was refunded. False when a job could not be queued.
 */
export async function followUpOrder(
  queues: Queues,
  order: Order,
  event: OrderEvent,
  now: Date,
  stockMoved: boolean,
): Promise<boolean> {
  const queued = await Promise.all([
    scheduleOrderTimer(queues, order, now),
    notifyOrder(queues, order, event),
    stockMoved ? refreshShopListing(queues, order.listingId, now) : true,
    revokeRefundedRole(queues, order),
  ]);
  return queued.every(Boolean);
}

import type { Order } from '../economy/market/types.ts';
import { marketCompleteJob, marketExpireJob } from './definitions.ts';
import type { Queues } from './queues.ts';

/**
 * Schedules the delayed job for an order's next deadline: the escrow expiry while it is pending, the end of
 * the confirm window once delivered. The job id is the order's, so a retried call schedules nothing twice.
 * Resolves false when Redis refused: the order is already safe, the periodic sweeper settles it on time.
 */
export async function scheduleOrderTimer(queues: Queues, order: Order, now: Date): Promise<boolean> {
  const next =
    order.state === 'pending'
      ? { def: marketExpireJob, at: order.expiresAt, jobId: `market-expire-${order.id}` }
      : order.state === 'delivered' && order.confirmDeadline
        ? { def: marketCompleteJob, at: order.confirmDeadline, jobId: `market-complete-${order.id}` }
        : null;
  if (!next) return true;
  try {
    await queues.enqueue(
      next.def,
      { orderId: order.id },
      { jobId: next.jobId, delay: Math.max(0, next.at.getTime() - now.getTime()) },
    );
    return true;
  } catch {
    return false;
  }
}

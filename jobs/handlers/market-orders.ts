import { UnrecoverableError } from 'bullmq';
import { AppError } from '../../economy/errors.ts';
import { marketFor } from '../../economy/market/market.ts';
import { dueOrders, type TransitionResult } from '../../economy/market/orders.ts';
import { systemActor } from '../../economy/rbac.ts';
import type { PayloadOf, marketCompleteJob, marketExpireJob } from '../definitions.ts';
import { followUpOrder } from '../market-events.ts';
import type { WorkerDeps } from '../deps.ts';

export type MarketJobDeps = Pick<WorkerDeps, 'cfg' | 'db' | 'log' | 'queues' | 'now'>;

/** A refusal is permanent (the order is gone or settled otherwise); `busy` is worth a retry. */
function permanent(err: unknown): never {
  if (err instanceof AppError && err.code !== 'busy') throw new UnrecoverableError(err.message);
  throw err;
}

/**
 * When a timer settled an order: the market's follow-ups, so both sides are told, #shop shows returned stock
 * and an expired order whose role grant had started gets the role taken back.
 */
async function announceSettled(deps: MarketJobDeps, result: TransitionResult): Promise<void> {
  if (!result.changed) return;
  const { order } = result;
  const event = order.state === 'refunded' ? 'refunded' : 'completed';
  await followUpOrder(deps.queues, order, event, marketFor(deps).now(), result.restocked !== null);
}

/** The delayed per-order expiry. Before the deadline it changes nothing; the sweeper catches a job that ran early. */
export async function handleMarketExpire(
  deps: MarketJobDeps,
  { orderId }: PayloadOf<typeof marketExpireJob>,
): Promise<{ changed: boolean }> {
  const result = await marketFor(deps)
    .expireEscrow(orderId, systemActor(`market-expire:${orderId}`))
    .catch(permanent);
  if (result.changed) deps.log.info({ orderId }, 'order escrow expired; buyer refunded');
  await announceSettled(deps, result);
  return { changed: result.changed };
}

/** The delayed per-order completion at the end of the confirm window. */
export async function handleMarketComplete(
  deps: MarketJobDeps,
  { orderId }: PayloadOf<typeof marketCompleteJob>,
): Promise<{ changed: boolean }> {
  const result = await marketFor(deps)
    .completeAfterConfirmWindow(orderId, systemActor(`market-complete:${orderId}`))
    .catch(permanent);
  if (result.changed) deps.log.info({ orderId }, 'order completed after its confirm window');
  await announceSettled(deps, result);
  return { changed: result.changed };
}

export interface SweepResult {
  expired: number;
  completed: number;
  /** Orders that are due but could not be settled now (a frozen seller); they are retried next sweep. */
  stuck: number;
}

const SWEEP_PAGE = 500;

/**
 * Settles whatever is overdue in the database, whatever happened to the delayed jobs. Safe to run on every
 * worker at once: each order changes once, and a racing job or sweeper finds it settled.
 */
export async function handleMarketSweep(deps: MarketJobDeps): Promise<SweepResult> {
  const market = marketFor(deps);
  const sweeper = systemActor('market-sweep');
  const total: SweepResult = { expired: 0, completed: 0, stuck: 0 };
  const skip = new Set<string>();
  for (;;) {
    const due = await dueOrders(deps.db, market.now(), SWEEP_PAGE + skip.size);
    const expire = due.expire.filter((id) => !skip.has(id));
    const complete = due.complete.filter((id) => !skip.has(id));
    if (expire.length === 0 && complete.length === 0) break;
    const settled = await Promise.allSettled<TransitionResult>([
      ...expire.map((id) => market.expireEscrow(id, sweeper)),
      ...complete.map((id) => market.completeAfterConfirmWindow(id, sweeper)),
    ]);
    const ids = [...expire, ...complete];
    const settledNow: TransitionResult[] = [];
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        if (!r.value.changed) return;
        settledNow.push(r.value);
        if (r.value.order.state === 'refunded') total.expired++;
        else total.completed++;
        return;
      }
      total.stuck++;
      skip.add(ids[i]!);
      deps.log.warn(
        { orderId: ids[i], err: r.reason instanceof Error ? r.reason.message : String(r.reason) },
        'overdue order could not be settled',
      );
    });
    await Promise.all(settledNow.map((r) => announceSettled(deps, r)));
    if (expire.length + complete.length < SWEEP_PAGE) break;
  }
  if (total.expired + total.completed + total.stuck > 0) deps.log.info(total, 'market sweep');
  return total;
}

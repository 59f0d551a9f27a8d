import type { Config } from '../../config/env.ts';
import type { Db } from '../../db/client.ts';
import { isRetryableError } from '../../db/client.ts';
import { TxBatcher, type BatcherOptions } from '../batcher.ts';
import {
  buyInTransaction,
  transitionInTransaction,
  type BuyRequest,
  type Purchase,
  type TransitionKind,
  type TransitionRequest,
  type TransitionResult,
} from './orders.ts';
import { marketSettings, type Actor, type AdminActor, type MarketSettings } from './types.ts';

/** A serialization failure or deadlock, or a concurrent purchase with the same key committed its order first. */
const retryableForOrders = (err: unknown): boolean =>
  isRetryableError(err) ||
  ((err as { code?: string }).code === '23505' &&
    (err as { constraint?: string }).constraint === 'orders_idempotency_key_key');

export interface MarketOptions extends BatcherOptions {
  now?: () => Date;
}

/**
 * The market's buying and order lifecycle. Concurrent calls in one process share database transactions
 * (see TxBatcher); each call still succeeds or fails on its own and throws an AppError when refused.
 */
export class Market {
  readonly now: () => Date;
  private readonly buys: TxBatcher<BuyRequest, Purchase>;
  private readonly transitions: TxBatcher<TransitionRequest, TransitionResult>;

  constructor(
    db: Db,
    readonly settings: MarketSettings,
    { now, ...batching }: MarketOptions = {},
  ) {
    this.now = now ?? (() => new Date());
    // One batch in flight per kind: a hot listing or seller serialises concurrent batches on its row lock
    // anyway, and one larger batch shares its commit among more purchases (measured: scripts/bench-market.ts).
    const options = { maxInFlight: 1, isRetryable: retryableForOrders, ...batching };
    // The first attempt buys optimistically; a rerun after a conflict locks the listings first.
    this.buys = new TxBatcher(
      db,
      (trx, reqs, attempt) =>
        buyInTransaction(trx, settings, reqs, this.now(), { lockListings: attempt > 1 }),
      (r) => r.key,
      options,
    );
    this.transitions = new TxBatcher(
      db,
      (trx, reqs) => transitionInTransaction(trx, settings, reqs, this.now()),
      (r) => r.orderId,
      options,
    );
  }

  /** Buys `quantity` units at the price the buyer saw; idempotent by `key`. */
  buy(req: BuyRequest): Promise<Purchase> {
    return this.buys.submit(req);
  }

  transition(
    kind: TransitionKind,
    orderId: string,
    actor: Actor,
    reason?: string,
  ): Promise<TransitionResult> {
    return this.transitions.submit({ kind, orderId, actor, reason });
  }

  /** The seller (or, for official listings, an admin or the system) says the goods were handed over. */
  markDelivered(orderId: string, actor: Actor) {
    return this.transition('deliver', orderId, actor);
  }

  /** The buyer confirms receipt: the escrow goes to the seller, the fee to `fees`. */
  confirmReceived(orderId: string, buyerId: string) {
    return this.transition('confirm', orderId, { kind: 'user', userId: buyerId });
  }

  /** The system completes a delivered order whose confirm window has passed (a no-op before that). */
  completeAfterConfirmWindow(orderId: string) {
    return this.transition('auto_complete', orderId, { kind: 'system' });
  }

  cancelBySeller(orderId: string, sellerId: string) {
    return this.transition('seller_cancel', orderId, { kind: 'user', userId: sellerId });
  }

  /** The buyer cancels an order the seller has not delivered yet. */
  cancelByBuyer(orderId: string, buyerId: string) {
    return this.transition('buyer_cancel', orderId, { kind: 'user', userId: buyerId });
  }

  /** The buyer disputes a delivered order within the confirm window; admins then fulfil or refund it. */
  dispute(orderId: string, buyerId: string, reason: string) {
    return this.transition('dispute', orderId, { kind: 'user', userId: buyerId }, reason);
  }

  /** Refunds an order at any stage; a completed one is reversed by compensating transfers. Audited. */
  adminRefund(orderId: string, admin: AdminActor, reason: string) {
    return this.transition('admin_refund', orderId, admin, reason);
  }

  /** Completes an order for the seller (resolving a dispute in their favour). Audited. */
  adminFulfil(orderId: string, admin: AdminActor, reason: string) {
    return this.transition('admin_fulfil', orderId, admin, reason);
  }

  /** An automatic delivery succeeded: the escrow goes to the seller (`burn` for official listings). */
  completeDelivered(orderId: string) {
    return this.transition('system_fulfil', orderId, { kind: 'system' });
  }

  /** An automatic delivery failed for good: the buyer is refunded. */
  refundFailedDelivery(orderId: string) {
    return this.transition('delivery_failed', orderId, { kind: 'system' });
  }

  /** Refunds an undelivered order whose escrow has run out (a no-op before that, or once settled). */
  expireEscrow(orderId: string) {
    return this.transition('expire', orderId, { kind: 'system' });
  }
}

const perProcess = new WeakMap<Db, Market>();

/**
 * The Market of a process, one per database handle: the API and the worker of `ROLE=all` get different
 * dependency objects but the same handle, so every handler shares one set of batches. Its clock is the
 * process's (`now`, else the ledger's), so tests that move the clock move the market's too.
 */
export function marketFor(deps: {
  db: Db;
  cfg: Config;
  now?: () => Date;
  ledger?: { now: () => Date };
}): Market {
  let market = perProcess.get(deps.db);
  if (!market) {
    const now = deps.now ?? deps.ledger?.now;
    market = new Market(deps.db, marketSettings(deps.cfg), now ? { now } : {});
    perProcess.set(deps.db, market);
  }
  return market;
}

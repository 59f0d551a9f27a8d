import type { Config } from '../../config/env.ts';
import type { Db } from '../../db/client.ts';
import { isRetryableError } from '../../db/client.ts';
import { distinctBy, TxBatcher, type BatcherOptions } from '../batcher.ts';
import {
  buyInTransaction,
  transitionInTransaction,
  type BuyRequest,
  type Purchase,
  type TransitionKind,
  type TransitionRequest,
  type TransitionResult,
} from './orders.ts';
import { requirePermission, type Actor } from '../rbac.ts';
import { marketSettingsOf, settingsFor } from '../settings.ts';
import type { MarketSettings } from './types.ts';

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

  private readonly settingsNow: () => MarketSettings;

  /** `settings` is a function when they can change while the process runs (the live settings). */
  constructor(
    db: Db,
    settings: MarketSettings | (() => MarketSettings),
    { now, ...batching }: MarketOptions = {},
  ) {
    this.now = now ?? (() => new Date());
    this.settingsNow = typeof settings === 'function' ? settings : () => settings;
    // One batch in flight per kind: a hot listing or seller serialises concurrent batches on its row lock
    // anyway, and one larger batch shares its commit among more purchases (measured: scripts/bench-market.ts).
    const options = { maxInFlight: 1, isRetryable: retryableForOrders, ...batching };
    // The first attempt buys optimistically; a rerun after a conflict locks the listings first.
    this.buys = new TxBatcher(
      db,
      (trx, reqs, attempt) =>
        buyInTransaction(trx, this.settingsNow(), reqs, this.now(), { lockListings: attempt > 1 }),
      distinctBy((r) => r.key),
      options,
    );
    this.transitions = new TxBatcher(
      db,
      (trx, reqs) => transitionInTransaction(trx, this.settingsNow(), reqs, this.now()),
      distinctBy((r) => r.orderId),
      options,
    );
  }

  /** The knobs in force now. */
  get settings(): MarketSettings {
    return this.settingsNow();
  }

  /** The member buys `quantity` units at the price they saw, for themselves (`market.trade`); idempotent by `key`. */
  async buy(actor: Actor, req: Omit<BuyRequest, 'buyerId'>): Promise<Purchase> {
    requirePermission(actor, 'market.trade');
    if (actor.kind !== 'member') throw new Error('unreachable: only members trade');
    return this.buys.submit({ ...req, buyerId: actor.userId });
  }

  /** Applies one order transition for `actor`, who is checked against the order and PERMISSIONS. */
  transition(
    kind: TransitionKind,
    orderId: string,
    actor: Actor,
    reason?: string,
  ): Promise<TransitionResult> {
    return this.transitions.submit({ kind, orderId, actor, reason });
  }

  /** The seller (or, for official listings, staff who manage the market, or the system) hands the goods over. */
  markDelivered(orderId: string, actor: Actor) {
    return this.transition('deliver', orderId, actor);
  }

  /** The buyer confirms receipt: the escrow goes to the seller, the fee to `fees`. */
  confirmReceived(orderId: string, buyer: Actor) {
    return this.transition('confirm', orderId, buyer);
  }

  /** The system completes a delivered order whose confirm window has passed (a no-op before that). */
  completeAfterConfirmWindow(orderId: string, system: Actor) {
    return this.transition('auto_complete', orderId, system);
  }

  cancelBySeller(orderId: string, seller: Actor) {
    return this.transition('seller_cancel', orderId, seller);
  }

  /** The buyer cancels an order the seller has not delivered yet. */
  cancelByBuyer(orderId: string, buyer: Actor) {
    return this.transition('buyer_cancel', orderId, buyer);
  }

  /** The buyer disputes a delivered order within the confirm window; admins then fulfil or refund it. */
  dispute(orderId: string, buyer: Actor, reason: string) {
    return this.transition('dispute', orderId, buyer, reason);
  }

  /** Refunds an order at any stage (`tx.refund`); a completed one is reversed by compensating transfers. Audited. */
  async adminRefund(orderId: string, staff: Actor, reason: string) {
    // Staff actions need the permission whatever the order: refused before the order is read.
    requirePermission(staff, 'tx.refund');
    return this.transition('admin_refund', orderId, staff, reason);
  }

  /** Completes an order for the seller (`order.fulfil`), resolving a dispute in their favour. Audited. */
  async adminFulfil(orderId: string, staff: Actor, reason: string) {
    requirePermission(staff, 'order.fulfil');
    return this.transition('admin_fulfil', orderId, staff, reason);
  }

  /** An automatic delivery succeeded: the escrow goes to the seller (`burn` for official listings). */
  completeDelivered(orderId: string, system: Actor) {
    return this.transition('system_fulfil', orderId, system);
  }

  /** An automatic delivery failed for good: the buyer is refunded. */
  refundFailedDelivery(orderId: string, system: Actor) {
    return this.transition('delivery_failed', orderId, system);
  }

  /** Refunds an undelivered order whose escrow has run out (a no-op before that, or once settled). */
  expireEscrow(orderId: string, system: Actor) {
    return this.transition('expire', orderId, system);
  }

  /** Refunds an order of an item only official listings may sell, bought from a player's listing. */
  refuseRestricted(orderId: string, system: Actor) {
    return this.transition('refuse_restricted', orderId, system);
  }
}

const perProcess = new WeakMap<Db, Market>();

/**
 * The Market of a process, one per database handle: the API and the worker of `ROLE=all` get different
 * dependency objects but the same handle, so every handler shares one set of batches. Its clock is the
 * process's `now`, so tests that move the clock move the market's too. Its knobs are the live settings
 * (economy/settings.ts), read when each batch runs.
 */
export function marketFor(deps: { db: Db; cfg: Config; now: () => Date }): Market {
  let market = perProcess.get(deps.db);
  if (!market) {
    const live = settingsFor(deps);
    market = new Market(deps.db, () => marketSettingsOf(live.current(), deps.cfg), { now: deps.now });
    perProcess.set(deps.db, market);
  }
  return market;
}

import { sql } from 'kysely';
import type { Db, Tx } from '../../db/client.ts';
import { auditAction } from '../audit.ts';
import { AppError } from '../errors.ts';
import {
  MAX_AMOUNT,
  SYSTEM_ACCOUNTS,
  applyInTransaction,
  type LedgerOp,
  type LedgerResult,
} from '../ledger.ts';
import { Conflict, RequestFailed, type Outcome } from '../batcher.ts';
import { coins } from '../../config/numbers.ts';
import { notEnoughCoins } from '../words.ts';
import { marketFee } from './fees.ts';
import { requireReason } from './listings.ts';
import { can, requirePermission, type Action, type Actor } from '../rbac.ts';
import {
  LISTING_COLUMNS,
  ORDER_COLUMNS,
  RESTRICTED_KINDS,
  toListing,
  toOrder,
  type Listing,
  type MarketSettings,
  type Order,
  type OrderRow,
  type OrderState,
  type RefundReason,
} from './types.ts';

/** Most units one purchase may take. */
export const MAX_ORDER_QUANTITY = 1000;
/**
 * How long the ledger keeps an order's hold postable beyond its confirm window, so an admin can still settle
 * a dispute. After that only a refund (void) remains possible.
 */
export const HOLD_GRACE_DAYS = 30;

const ID = /^[0-9]{1,18}$/;
const MIN = 60_000;
const HOUR = 3_600_000;

export interface BuyRequest {
  /** Idempotency key chosen by the cause: the Discord interaction id, the panel's Idempotency-Key. */
  key: string;
  listingId: string;
  buyerId: string;
  quantity: number;
  /** The unit price the buyer was shown; a different current price refuses the purchase. */
  expectedUnitPrice: number;
}

export interface Purchase {
  order: Order;
  /** The listing after this purchase (stock and state), for the #shop embed. */
  listing: Listing;
  /** True when the key had been used already and this is the first purchase again. */
  replayed: boolean;
}

const fail = (
  code: string,
  message: string,
  status: AppError['status'] = 409,
  details?: Record<string, unknown>,
) => ({ ok: false, error: new AppError(code, message, status, details) }) as const;

function checkBuyRequest(r: BuyRequest) {
  if (typeof r.key !== 'string' || r.key.length === 0 || r.key.length > 180) {
    return fail('invalid_key', 'Every purchase needs an idempotency key of 1 to 180 characters.', 400);
  }
  if (!ID.test(r.listingId)) return fail('listing_not_found', 'That listing does not exist.', 404);
  if (!ID.test(r.buyerId)) return fail('unknown_user', 'You have no Coinhub account yet.', 404);
  if (!Number.isSafeInteger(r.quantity) || r.quantity < 1 || r.quantity > MAX_ORDER_QUANTITY) {
    return fail('invalid_quantity', `Quantity must be a whole number from 1 to ${MAX_ORDER_QUANTITY}.`, 400);
  }
  if (!Number.isSafeInteger(r.expectedUnitPrice) || r.expectedUnitPrice < 1) {
    return fail('invalid_price', 'The expected price must be a whole number of coins.', 400);
  }
  return null;
}

const UNAVAILABLE: Record<Exclude<Listing['state'], 'active'>, string> = {
  paused: 'That listing is paused by its seller.',
  sold_out: 'That listing is sold out.',
  cancelled: 'That listing has ended.',
  removed: 'That listing was taken down by an admin.',
};

/**
 * Buys from listings inside the caller's transaction: per request, re-checks the listing (active, the
 * price the buyer saw, enough stock), refuses self-purchase and frozen accounts, holds the buyer's coins in
 * escrow, creates the order and takes the stock. A refused request writes nothing; a retried key returns
 * its first order.
 *
 * `lockListings: false` is the optimistic plan: listings are read without a lock and the stock is taken at
 * the end by a conditional update (still active, same price, enough left), so a hot listing's row lock is
 * held only for that update and the commit. If the condition fails, this throws a Conflict and the caller
 * reruns with `lockListings: true`, which locks the listings first. Either way no listing is ever oversold:
 * the stock only moves in a statement that checks it.
 */
export async function buyInTransaction(
  trx: Tx,
  settings: MarketSettings,
  requests: BuyRequest[],
  now: Date,
  options: { lockListings?: boolean } = {},
): Promise<Outcome<Purchase>[]> {
  const out: (Outcome<Purchase> | undefined)[] = requests.map((r) => checkBuyRequest(r) ?? undefined);
  const valid = requests.flatMap((r, i) => (out[i] ? [] : [{ r, i }]));
  if (valid.length === 0) return out as Outcome<Purchase>[];

  const listingIds = [...new Set(valid.map(({ r }) => r.listingId))].sort(byNumericId);
  let read = trx
    .selectFrom('listings as l')
    .leftJoin('users as u', 'u.id', 'l.seller_id')
    .select([...LISTING_COLUMNS.map((c) => `l.${c}` as const), 'u.frozen as seller_frozen'])
    .where('l.id', 'in', listingIds)
    .orderBy('l.id');
  if (options.lockListings) read = read.forNoKeyUpdate('l');
  const rows = await read.execute();
  const listings = new Map(rows.map((row) => [String(row.id), toListing(row)]));
  const frozenSellers = new Set(rows.filter((row) => row.seller_frozen).map((row) => String(row.seller_id)));

  const stock = new Map([...listings].map(([id, l]) => [id, l.quantityLeft]));
  let waiting: { r: BuyRequest; i: number; listing: Listing }[] = [];
  for (const { r, i } of valid) {
    const listing = listings.get(r.listingId);
    if (!listing) out[i] = fail('listing_not_found', 'That listing does not exist.', 404);
    else if (listing.state !== 'active') out[i] = fail('listing_unavailable', UNAVAILABLE[listing.state]);
    else if (listing.unitPrice !== r.expectedUnitPrice) {
      out[i] = fail(
        'price_changed',
        `The price changed to ${coins(listing.unitPrice)} each; look at the listing again before buying.`,
        409,
        { unitPrice: listing.unitPrice },
      );
    } else if (listing.sellerId === r.buyerId)
      out[i] = fail('self_purchase', 'You cannot buy your own listing.', 403);
    else if (listing.sellerId !== null && frozenSellers.has(listing.sellerId)) {
      out[i] = fail(
        'seller_frozen',
        "The seller's account is frozen; this listing cannot be bought right now.",
      );
    } else waiting.push({ r, i, listing });
  }

  const expiresAt = new Date(now.getTime() + settings.escrowTimeoutMin * MIN);
  const holdExpiresAt = new Date(
    expiresAt.getTime() + settings.confirmWindowH * HOUR + HOLD_GRACE_DAYS * 24 * HOUR,
  );
  const held: { r: BuyRequest; i: number; listing: Listing; holdId: string }[] = [];
  const twins: number[] = [];
  // Stock goes to requests in arrival order. A hold the ledger refuses gives its stock back, and requests
  // that found the listing short get another round with it.
  for (;;) {
    const round: typeof waiting = [];
    const short: typeof waiting = [];
    for (const w of waiting) {
      const left = stock.get(w.listing.id)!;
      if (w.r.quantity <= left) {
        stock.set(w.listing.id, left - w.r.quantity);
        round.push(w);
      } else short.push(w);
    }
    if (round.length === 0) {
      waiting = short;
      break;
    }
    const results = await applyInTransaction(
      trx,
      round.map(({ r, listing }) => holdOp(r, listing, holdExpiresAt)),
      now,
    );
    let freed = false;
    for (const [k, w] of round.entries()) {
      const res = results[k]!;
      if (res.ok && !res.replayed) {
        held.push({ ...w, holdId: res.transferId });
        continue;
      }
      freed = true;
      stock.set(w.listing.id, stock.get(w.listing.id)! + w.r.quantity);
      // A replayed hold means this key's purchase committed already: it is answered below as a replay.
      if (res.ok) twins.push(w.i);
      else out[w.i] = { ok: false, error: await holdRefusal(trx, res, w.r, w.listing) };
    }
    waiting = short;
    if (!freed || short.length === 0) break;
  }
  for (const w of waiting) {
    const left = stock.get(w.listing.id)!;
    out[w.i] = fail(
      'insufficient_stock',
      left === 0 ? 'That listing is sold out.' : `Only ${left} left; lower the quantity.`,
      409,
      { quantityLeft: left },
    );
  }

  if (held.length > 0) {
    const inserted = await trx
      .insertInto('orders')
      .values(
        held.map(({ r, listing, holdId }) => {
          const total = listing.unitPrice * r.quantity;
          return {
            idempotency_key: r.key,
            listing_id: listing.id,
            buyer_id: r.buyerId,
            seller_id: listing.sellerId,
            quantity: r.quantity,
            unit_price: listing.unitPrice,
            total,
            fee: listing.official ? 0 : marketFee(total, settings.feePct),
            hold_transfer_id: holdId,
            expires_at: expiresAt,
            created_at: now,
            updated_at: now,
          };
        }),
      )
      .returning([...ORDER_COLUMNS, 'idempotency_key'])
      .execute();
    const orders = new Map(inserted.map((o) => [o.idempotency_key, toOrder(o)]));

    const taken = new Map<string, number>();
    for (const { r, listing } of held) taken.set(listing.id, (taken.get(listing.id) ?? 0) + r.quantity);
    const ids = [...taken.keys()].sort(byNumericId);
    // An UPDATE ... FROM locks its rows in join order; lock them in id order first so batches cannot deadlock.
    if (!options.lockListings) await lockListingsInOrder(trx, ids);
    const updated = await sql<Parameters<typeof toListing>[0]>`
      update listings l
      set quantity_left = l.quantity_left - v.taken,
          state = case when l.quantity_left - v.taken = 0 then 'sold_out' else l.state end,
          updated_at = ${now}
      from unnest(${ids}::bigint[], ${ids.map((id) => taken.get(id)!)}::int[], ${ids.map((id) => listings.get(id)!.unitPrice)}::bigint[])
        as v(id, taken, price)
      where l.id = v.id and l.state = 'active' and l.unit_price = v.price and l.quantity_left >= v.taken
      returning ${sql.join(LISTING_COLUMNS.map((c) => sql.ref(`l.${c}`)))}`.execute(trx);
    if (updated.rows.length !== ids.length) {
      // Only possible on the optimistic plan: the listing changed since it was read. Rerun with locks.
      throw new Conflict('a listing changed while buying from it');
    }
    const after = new Map(updated.rows.map((row) => [String(row.id), toListing(row)]));
    for (const { r, i, listing } of held) {
      out[i] = {
        ok: true,
        value: { order: orders.get(r.key)!, listing: after.get(listing.id)!, replayed: false },
      };
    }
  }

  await answerReplays(trx, requests, out, twins);
  return out as Outcome<Purchase>[];
}

/**
 * A key that already made an order gets that order back, whatever the listing looks like now. Only refused
 * requests and replayed holds can be replays, so the lookup costs nothing on the common path.
 */
async function answerReplays(
  trx: Tx,
  requests: BuyRequest[],
  out: (Outcome<Purchase> | undefined)[],
  twins: number[],
): Promise<void> {
  const candidates = [
    ...new Set([
      ...twins,
      ...requests.flatMap((_, i) => (out[i] && !out[i].ok && out[i].error.status !== 400 ? [i] : [])),
    ]),
  ];
  if (candidates.length === 0) return;
  const found = await trx
    .selectFrom('orders')
    .select([...ORDER_COLUMNS, 'idempotency_key'])
    .where(
      'idempotency_key',
      'in',
      candidates.map((i) => requests[i]!.key),
    )
    .execute();
  const byKey = new Map(found.map((o) => [o.idempotency_key, toOrder(o)]));
  const listings = await loadListings(trx, [...new Set(found.map((o) => String(o.listing_id)))]);
  for (const i of candidates) {
    const r = requests[i]!;
    const order = byKey.get(r.key);
    if (!order) {
      // A replayed hold whose order is not visible yet: the twin is still committing. Rerun.
      if (twins.includes(i)) throw new Conflict('a concurrent purchase with this key is committing');
      continue;
    }
    out[i] =
      order.listingId === r.listingId && order.buyerId === r.buyerId && order.quantity === r.quantity
        ? { ok: true, value: { order, listing: listings.get(order.listingId)!, replayed: true } }
        : fail('key_reused', 'This request was already used for a different purchase.');
  }
}

/**
 * Locks listings in id order before a statement that updates several of them, so concurrent batches cannot
 * deadlock. One listing (a hot listing's every batch) needs no order: the update takes its lock itself.
 */
async function lockListingsInOrder(trx: Tx, ids: string[]): Promise<void> {
  if (ids.length < 2) return;
  await trx
    .selectFrom('listings')
    .select('id')
    .where('id', 'in', ids)
    .orderBy('id')
    .forNoKeyUpdate()
    .execute();
}

const byNumericId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

const holdOp = (r: BuyRequest, listing: Listing, expiresAt: Date): LedgerOp => ({
  op: 'hold',
  key: `market:buy:${r.key}`,
  debit: r.buyerId,
  amount: listing.unitPrice * r.quantity,
  expiresAt,
  reason: 'market_purchase',
  ref: { listingId: listing.id, quantity: r.quantity },
  actor: r.buyerId,
});

async function holdRefusal(
  trx: Tx,
  res: Extract<LedgerResult, { ok: false }>,
  r: BuyRequest,
  listing: Listing,
): Promise<AppError> {
  const total = listing.unitPrice * r.quantity;
  switch (res.code) {
    case 'insufficient_funds': {
      const wallet = await trx
        .selectFrom('accounts')
        .select('balance')
        .where('id', '=', r.buyerId)
        .executeTakeFirst();
      const balance = Number(wallet?.balance ?? 0);
      return new AppError('insufficient_funds', notEnoughCoins(balance, total), 409, {
        total,
        balance,
      });
    }
    case 'frozen':
      return new AppError('buyer_frozen', 'Your account is frozen, so you cannot buy.', 403);
    case 'unknown_account':
      return new AppError('unknown_user', 'You have no Coinhub account yet.', 404);
    case 'invalid_amount':
      return new AppError('invalid_quantity', `That order would cost more than ${coins(MAX_AMOUNT)}.`, 400);
    default:
      return new AppError(res.code, res.message, 409);
  }
}

/** The listings with these ids, by id; ids with no listing are absent. */
export async function loadListings(db: Db | Tx, ids: string[]): Promise<Map<string, Listing>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('listings').select(LISTING_COLUMNS).where('id', 'in', ids).execute();
  return new Map(rows.map((row) => [String(row.id), toListing(row)]));
}

// ── Order lifecycle ─────────────────────────────────────────────────────────────────────────────────────

export type TransitionKind =
  | 'deliver'
  | 'confirm'
  | 'auto_complete'
  | 'seller_cancel'
  | 'buyer_cancel'
  | 'dispute'
  | 'admin_refund'
  | 'admin_fulfil'
  | 'expire'
  | 'system_fulfil'
  | 'delivery_failed'
  | 'refuse_restricted';

export interface TransitionRequest {
  kind: TransitionKind;
  orderId: string;
  actor: Actor;
  /** Required for disputes and admin actions; goes to the order or the audit log. */
  reason?: string;
}

export interface TransitionResult {
  order: Order;
  /** False when the order was already in the requested state (a retry) or a system timer was not due. */
  changed: boolean;
  /** The listing whose stock a refund gave back, for the #shop embed. */
  restocked: Listing | null;
}

type Who = 'buyer' | 'seller' | 'admin' | 'system';

interface Spec {
  from: OrderState[];
  to: OrderState;
  who: Who[];
  /** System timers never fail: outside their states, or before they are due, they change nothing. */
  timer?: (o: Order, now: Date) => boolean;
  refund?: RefundReason;
  verb: string;
}

const SPECS: Record<TransitionKind, Spec> = {
  deliver: { from: ['pending'], to: 'delivered', who: ['seller', 'system'], verb: 'mark as delivered' },
  confirm: { from: ['pending', 'delivered', 'disputed'], to: 'completed', who: ['buyer'], verb: 'confirm' },
  auto_complete: {
    from: ['delivered'],
    to: 'completed',
    who: ['system'],
    timer: (o, now) => o.confirmDeadline !== null && o.confirmDeadline <= now,
    verb: 'complete',
  },
  seller_cancel: {
    from: ['pending', 'delivered', 'disputed'],
    to: 'refunded',
    who: ['seller'],
    refund: 'seller_cancelled',
    verb: 'cancel',
  },
  buyer_cancel: {
    from: ['pending'],
    to: 'refunded',
    who: ['buyer'],
    refund: 'buyer_cancelled',
    verb: 'cancel',
  },
  dispute: { from: ['delivered'], to: 'disputed', who: ['buyer'], verb: 'dispute' },
  admin_refund: {
    from: ['pending', 'delivered', 'disputed', 'completed'],
    to: 'refunded',
    who: ['admin'],
    refund: 'admin_refund',
    verb: 'refund',
  },
  admin_fulfil: {
    from: ['pending', 'delivered', 'disputed'],
    to: 'completed',
    who: ['admin'],
    verb: 'fulfil',
  },
  expire: {
    from: ['pending'],
    to: 'refunded',
    who: ['system'],
    timer: (o, now) => o.expiresAt <= now,
    refund: 'escrow_expired',
    verb: 'expire',
  },
  // An automatic delivery (a Minecraft item) that succeeded completes the order at once.
  system_fulfil: { from: ['pending'], to: 'completed', who: ['system'], verb: 'complete' },
  // An automatic delivery that failed for good refunds the order.
  delivery_failed: {
    from: ['pending'],
    to: 'refunded',
    who: ['system'],
    refund: 'delivery_failed',
    verb: 'refund',
  },
  refuse_restricted: {
    from: ['pending', 'delivered', 'disputed'],
    to: 'refunded',
    who: ['system'],
    refund: 'restricted_item',
    verb: 'refuse',
  },
};

/** The permission each kind of actor needs, besides being the order's buyer or seller where that applies. */
const NEEDS: Record<Who, Action> = {
  buyer: 'market.trade',
  seller: 'market.trade',
  system: 'order.timers',
  admin: 'market.manage',
};

/** What staff need to refund or fulfil an order. */
const STAFF_ACTION: Partial<Record<TransitionKind, Action>> = {
  admin_refund: 'tx.refund',
  admin_fulfil: 'order.fulfil',
};

const STATE_WORDS: Record<OrderState, string> = {
  pending: 'waiting for delivery',
  delivered: 'delivered',
  completed: 'completed',
  refunded: 'refunded',
  disputed: 'disputed',
};

function stateError(kind: TransitionKind, order: Order): AppError {
  if (kind === 'buyer_cancel' && (order.state === 'delivered' || order.state === 'disputed')) {
    return new AppError(
      'order_delivered',
      'The seller already delivered this order; confirm it, or open a dispute if something is wrong.',
      409,
    );
  }
  if (kind === 'dispute' && order.state === 'pending') {
    return new AppError(
      'order_not_delivered',
      'The seller has not delivered this order yet; you can cancel it instead.',
      409,
    );
  }
  if (order.state === 'refunded') return new AppError('order_refunded', 'This order was refunded.', 409);
  if (order.state === 'completed')
    return new AppError('order_completed', 'This order is already completed.', 409);
  return new AppError(
    'order_state',
    `You cannot ${SPECS[kind].verb} an order that is ${STATE_WORDS[order.state]}.`,
    409,
  );
}

/**
 * Who `actor` is to `order` for a transition of this kind, after checking they may take it: the system for
 * timers; staff with the kind's permission for admin refunds and fulfilments (one who is a party to the order
 * also needs `balance.adjust`, as refunding oneself is an adjustment); staff with `market.manage` for the
 * seller of an official listing; otherwise the buyer or seller, whose account may not be frozen.
 */
function actingAs(spec: Spec, req: TransitionRequest, order: Order, frozen: ReadonlySet<string>): Who {
  const actor = req.actor;
  const whom = spec.who.includes('buyer')
    ? 'the buyer'
    : spec.who.includes('seller')
      ? 'the seller'
      : spec.who.includes('admin')
        ? 'an admin'
        : 'the system';
  const refuse = () => new AppError('not_your_order', `Only ${whom} can ${spec.verb} this order.`, 403);
  if (actor.kind === 'system') {
    if (!spec.who.includes('system')) throw refuse();
    requirePermission(actor, NEEDS.system);
    return 'system';
  }
  const party = actor.userId === order.buyerId || actor.userId === order.sellerId;
  const staffAction = STAFF_ACTION[req.kind];
  if (staffAction) {
    if (!can(actor, staffAction) && actor.role === null) throw refuse();
    requirePermission(actor, staffAction);
    if (party && !can(actor, 'balance.adjust')) {
      throw new AppError(
        'own_order',
        'You cannot settle an order you are the buyer or seller of; ask an admin.',
        403,
      );
    }
    return 'admin';
  }
  let who: Who | null = null;
  if (actor.userId === order.buyerId && spec.who.includes('buyer')) who = 'buyer';
  else if (order.sellerId !== null && actor.userId === order.sellerId && spec.who.includes('seller'))
    who = 'seller';
  // An official listing has no seller: staff who manage the market act for it.
  else if (order.sellerId === null && spec.who.includes('seller') && can(actor, 'market.manage'))
    who = 'admin';
  if (who === null) throw refuse();
  requirePermission(actor, NEEDS[who]);
  if (who !== 'admin' && frozen.has(actor.userId)) {
    throw new AppError('account_frozen', 'Your account is frozen, so you cannot act on orders.', 403);
  }
  return who;
}

interface Change {
  req: TransitionRequest;
  who: Who;
  index: number;
  order: Order;
  spec: Spec;
  listing: { id: string; catalogItemId: string | null; guardOverride: boolean };
  ops: LedgerOp[];
  patch: Record<string, string | null>;
}

const iso = (d: Date) => d.toISOString();

/**
 * Applies order transitions inside the caller's transaction. Orders are locked in id order; each change is a
 * conditional update on the state it was read in, and its coins move through the ledger with a key derived
 * from the order, so a transition can happen once: a repeat is a no-op and a racing rival finds the new
 * state. Refunds void the hold and give the stock back (a completed order is reversed with compensating
 * transfers instead); completions post the hold to the seller with the fee to `fees`. One call takes each
 * order at most once (the Market's batcher guarantees it).
 */
export async function transitionInTransaction(
  trx: Tx,
  settings: MarketSettings,
  requests: TransitionRequest[],
  now: Date,
): Promise<Outcome<TransitionResult>[]> {
  const out: (Outcome<TransitionResult> | undefined)[] = requests.map((r) =>
    ID.test(r.orderId) ? undefined : fail('order_not_found', 'That order does not exist.', 404),
  );
  const ids = [...new Set(requests.filter((_, i) => !out[i]).map((r) => r.orderId))].sort(byNumericId);
  if (ids.length === 0) return out as Outcome<TransitionResult>[];

  const rows = await trx
    .selectFrom('orders as o')
    .innerJoin('listings as l', 'l.id', 'o.listing_id')
    .leftJoin('catalog_items as c', 'c.id', 'l.catalog_item_id')
    .select([
      ...ORDER_COLUMNS.map((c) => `o.${c}` as const),
      'l.catalog_item_id',
      'l.guard_override',
      'l.official',
      'c.kind as item_kind',
    ])
    .where('o.id', 'in', ids)
    .orderBy('o.id')
    .forUpdate('o')
    .execute();
  const found = new Map(rows.map((r) => [String(r.id), r]));
  const memberIds = [
    ...new Set(requests.flatMap((r) => (r.actor.kind === 'member' ? [r.actor.userId] : []))),
  ];
  const frozen = new Set(
    memberIds.length === 0
      ? []
      : (
          await trx
            .selectFrom('users')
            .select('id')
            .where('id', 'in', memberIds)
            .where('frozen', '=', true)
            .execute()
        ).map((u) => String(u.id)),
  );

  const changes: Change[] = [];
  for (const [index, req] of requests.entries()) {
    if (out[index]) continue;
    const row = found.get(req.orderId);
    if (!row) {
      out[index] = fail('order_not_found', 'That order does not exist.', 404);
      continue;
    }
    const restricted = !row.official && row.item_kind !== null && RESTRICTED_KINDS.includes(row.item_kind);
    if (req.kind === 'refuse_restricted' && !restricted) {
      out[index] = fail('not_restricted', 'Players may sell this item; the order stands.', 409);
      continue;
    }
    try {
      const change = planTransition(settings, req, toOrder(row as OrderRow), now, frozen);
      if (change === null) {
        out[index] = {
          ok: true,
          value: { order: toOrder(row as OrderRow), changed: false, restocked: null },
        };
      } else {
        const listing = {
          id: String(row.listing_id),
          catalogItemId: row.catalog_item_id === null ? null : String(row.catalog_item_id),
          guardOverride: row.guard_override,
        };
        changes.push({ ...change, index, listing, ops: await ledgerOps(trx, change.order, req, change.who) });
      }
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      out[index] = { ok: false, error: err };
    }
  }
  if (changes.length === 0) return out as Outcome<TransitionResult>[];

  const flat = changes.flatMap((c) => c.ops.map((op) => ({ c, op })));
  const results =
    flat.length > 0
      ? await applyInTransaction(
          trx,
          flat.map((f) => f.op),
          now,
        )
      : [];
  const applied: Change[] = [];
  let at = 0;
  for (const c of changes) {
    const mine = results.slice(at, at + c.ops.length);
    at += c.ops.length;
    const refusal = mine.find((r): r is Extract<LedgerResult, { ok: false }> => !r.ok);
    if (refusal) {
      const error = settleRefusal(refusal, c);
      // A compensating refund is two transfers; if one was refused the other must not stay.
      if (mine.some((r) => r.ok)) throw new RequestFailed(error);
      out[c.index] = { ok: false, error };
      continue;
    }
    const first = mine[0];
    if (first?.ok) {
      if (c.spec.to === 'completed') c.patch.settle_transfer_id = first.transferId;
      if (c.spec.to === 'refunded') c.patch.refund_transfer_id = first.transferId;
    }
    applied.push(c);
  }
  if (applied.length === 0) return out as Outcome<TransitionResult>[];

  const updated = await sql<OrderRow>`
    update orders o set
      state = v.to_state,
      delivered_at = coalesce(v.delivered_at, o.delivered_at),
      confirm_deadline = coalesce(v.confirm_deadline, o.confirm_deadline),
      completed_at = coalesce(v.completed_at, o.completed_at),
      refunded_at = coalesce(v.refunded_at, o.refunded_at),
      refund_reason = coalesce(v.refund_reason, o.refund_reason),
      settle_transfer_id = coalesce(v.settle_transfer_id, o.settle_transfer_id),
      refund_transfer_id = coalesce(v.refund_transfer_id, o.refund_transfer_id),
      disputed_at = coalesce(v.disputed_at, o.disputed_at),
      dispute_reason = coalesce(v.dispute_reason, o.dispute_reason),
      updated_at = ${now}
    from jsonb_to_recordset(${JSON.stringify(applied.map((c) => ({ id: c.order.id, from_state: c.order.state, to_state: c.spec.to, ...c.patch })))}::jsonb)
      as v(id bigint, from_state text, to_state text, delivered_at timestamptz, confirm_deadline timestamptz,
           completed_at timestamptz, refunded_at timestamptz, refund_reason text, settle_transfer_id bigint,
           refund_transfer_id bigint, disputed_at timestamptz, dispute_reason text)
    where o.id = v.id and o.state = v.from_state
    returning ${sql.join(ORDER_COLUMNS.map((c) => sql.ref(`o.${c}`)))}`.execute(trx);
  if (updated.rows.length !== applied.length) {
    // Impossible while the rows are locked; if it happens, nothing of this batch may stay.
    throw new Error('order state changed under a lock');
  }
  const after = new Map(updated.rows.map((r) => [String(r.id), toOrder(r)]));

  const restock = new Map<string, number>();
  for (const c of applied) {
    if (c.spec.to === 'refunded' && c.order.state !== 'completed') {
      restock.set(c.listing.id, (restock.get(c.listing.id) ?? 0) + c.order.quantity);
    }
  }
  const restocked = new Map<string, Listing>();
  if (restock.size > 0) {
    await lockListingsInOrder(trx, [...restock.keys()]);
    const res = await sql<Parameters<typeof toListing>[0]>`
      update listings l
      set quantity_left = l.quantity_left + v.qty,
          state = case when l.state = 'sold_out' then 'active' else l.state end,
          updated_at = ${now}
      from unnest(${[...restock.keys()]}::bigint[], ${[...restock.values()]}::int[]) as v(id, qty)
      where l.id = v.id
      returning ${sql.join(LISTING_COLUMNS.map((c) => sql.ref(`l.${c}`)))}`.execute(trx);
    for (const row of res.rows) restocked.set(String(row.id), toListing(row));
  }

  const sales = applied.filter(
    (c) => c.spec.to === 'completed' && c.listing.catalogItemId && !c.listing.guardOverride,
  );
  if (sales.length > 0) {
    await trx
      .insertInto('price_sales')
      .values(
        sales.map((c) => ({
          catalog_item_id: c.listing.catalogItemId!,
          order_id: c.order.id,
          unit_price: c.order.unitPrice,
          completed_at: now,
        })),
      )
      .execute();
  }
  const unsold = applied.filter((c) => c.spec.to === 'refunded' && c.order.state === 'completed');
  if (unsold.length > 0) {
    await trx
      .updateTable('price_sales')
      .set({ voided: true, rolled_up: false })
      .where(
        'order_id',
        'in',
        unsold.map((c) => c.order.id),
      )
      .execute();
  }

  for (const c of applied) {
    const order = after.get(c.order.id)!;
    if (c.who === 'admin') {
      await auditAction(trx, c.req.actor, {
        action: `market.order.${c.req.kind}`,
        target: { type: 'order', id: order.id },
        before: { state: c.order.state },
        after: {
          state: order.state,
          settleTransferId: order.settleTransferId,
          refundTransferId: order.refundTransferId,
        },
        reason: c.req.reason?.trim() ?? null,
      });
    }
    out[c.index] = {
      ok: true,
      value: {
        order,
        changed: true,
        restocked: restock.has(c.listing.id) ? restocked.get(c.listing.id)! : null,
      },
    };
  }
  return out as Outcome<TransitionResult>[];
}

/** Decides what a request does to an order: null for a no-op, a change, or an AppError thrown. */
function planTransition(
  settings: MarketSettings,
  req: TransitionRequest,
  order: Order,
  now: Date,
  frozen: ReadonlySet<string>,
): Omit<Change, 'index' | 'listing' | 'ops'> | null {
  const spec = SPECS[req.kind];
  if (!spec) throw new AppError('invalid_transition', 'Unknown order action.', 400);
  const who = actingAs(spec, req, order, frozen);
  if (order.state === spec.to) return null;
  if (spec.timer) {
    if (!spec.from.includes(order.state) || !spec.timer(order, now)) return null;
  } else if (!spec.from.includes(order.state)) {
    throw stateError(req.kind, order);
  }

  const patch: Record<string, string | null> = {};
  switch (req.kind) {
    case 'deliver':
      if (order.expiresAt <= now) {
        throw new AppError(
          'escrow_expired',
          "This order's escrow ran out; the buyer is being refunded.",
          409,
        );
      }
      patch.delivered_at = iso(now);
      patch.confirm_deadline = iso(new Date(now.getTime() + settings.confirmWindowH * HOUR));
      break;
    case 'dispute':
      if (order.confirmDeadline !== null && order.confirmDeadline <= now) {
        throw new AppError('confirm_window_closed', 'The time to dispute this order has passed.', 409);
      }
      patch.disputed_at = iso(now);
      patch.dispute_reason = requireDisputeReason(req.reason);
      break;
    case 'admin_refund':
    case 'admin_fulfil':
      requireReason(req.reason ?? '');
      break;
    default:
      break;
  }
  if (spec.to === 'completed') patch.completed_at = iso(now);
  if (spec.to === 'refunded') {
    patch.refunded_at = iso(now);
    patch.refund_reason = spec.refund!;
  }
  return { req, who, order, spec, patch };
}

function requireDisputeReason(reason: string | undefined): string {
  const why = (reason ?? '').trim();
  if (why.length < 3 || why.length > 1000) {
    throw new AppError(
      'reason_required',
      'Say what went wrong (3 to 1000 characters) so an admin can help.',
      400,
    );
  }
  return why;
}

async function ledgerOps(trx: Tx, order: Order, req: TransitionRequest, who: Who): Promise<LedgerOp[]> {
  const spec = SPECS[req.kind];
  const actor = req.actor.kind === 'system' ? undefined : req.actor.userId;
  const ref = { orderId: order.id, listingId: order.listingId };
  const seller = order.sellerId ?? SYSTEM_ACCOUNTS.burn;
  if (spec.to === 'completed') {
    return [
      {
        op: 'post',
        key: `market:settle:${order.id}`,
        pendingId: order.holdTransferId,
        credit: seller,
        fee: order.fee,
        reason: 'market_sale',
        ref,
        actor,
        // Admins may settle for a frozen seller; players and timers may not pay a frozen wallet.
        force: who === 'admin',
      },
    ];
  }
  if (spec.to !== 'refunded') return [];
  if (order.state !== 'completed') {
    return [
      {
        op: 'void',
        key: `market:refund:${order.id}`,
        pendingId: order.holdTransferId,
        reason: 'market_refund',
        ref,
        actor,
      },
    ];
  }
  const ops: LedgerOp[] = [
    {
      op: 'transfer',
      key: `market:reverse:${order.id}`,
      debit: seller,
      credit: order.buyerId,
      amount: order.total - order.fee,
      reverses: order.settleTransferId!,
      force: true,
      reason: 'market_refund',
      ref,
      actor,
    },
  ];
  if (order.fee > 0) {
    const fee = await trx
      .selectFrom('transfers')
      .select('id')
      .where('pending_id', '=', order.holdTransferId)
      .where('credit_account_id', '=', SYSTEM_ACCOUNTS.fees)
      .executeTakeFirstOrThrow();
    ops.push({
      op: 'transfer',
      key: `market:reverse-fee:${order.id}`,
      debit: SYSTEM_ACCOUNTS.fees,
      credit: order.buyerId,
      amount: order.fee,
      reverses: String(fee.id),
      force: true,
      reason: 'market_refund',
      ref,
      actor,
    });
  }
  return ops;
}

function settleRefusal(res: Extract<LedgerResult, { ok: false }>, c: Change): AppError {
  switch (res.code) {
    case 'frozen':
      return new AppError(
        'seller_frozen',
        "The seller's account is frozen; an admin has to settle this order.",
        409,
      );
    case 'expired':
      return new AppError(
        'escrow_lapsed',
        "This order's escrow has lapsed; it can only be refunded now.",
        409,
      );
    case 'insufficient_funds':
      return new AppError(
        'seller_insufficient_funds',
        `The seller no longer has the ${coins(c.order.total - c.order.fee)} this order paid them; the refund needs them back.`,
        409,
      );
    default:
      return new AppError(res.code, res.message, 409);
  }
}

// ── Queries ─────────────────────────────────────────────────────────────────────────────────────────────

export async function getOrder(db: Db | Tx, id: string): Promise<Order | undefined> {
  if (!ID.test(id)) return undefined;
  const row = await db.selectFrom('orders').select(ORDER_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && toOrder(row);
}

/** A player's orders as buyer or seller, newest first; `open` keeps those not yet completed or refunded. */
export async function ordersForUser(
  db: Db,
  userId: string,
  options: { role?: 'buyer' | 'seller'; open?: boolean; limit?: number } = {},
): Promise<Order[]> {
  let q = db.selectFrom('orders').select(ORDER_COLUMNS);
  if (options.role === 'buyer') q = q.where('buyer_id', '=', userId);
  else if (options.role === 'seller') q = q.where('seller_id', '=', userId);
  else q = q.where((eb) => eb.or([eb('buyer_id', '=', userId), eb('seller_id', '=', userId)]));
  if (options.open) q = q.where('state', 'in', ['pending', 'delivered', 'disputed']);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(options.limit ?? 25, 1), 100))
    .execute();
  return rows.map(toOrder);
}

/**
 * Clears a `discord_role` order's grant job to add the role: records `role_granted_at` unless the order is
 * refunded, and returns the order, or undefined when it is refunded. The update waits for a transition holding
 * the order's lock, so a refund either sees the mark (and takes the role back) or stops the grant.
 */
export async function claimRoleGrant(db: Db, orderId: string, now: Date): Promise<Order | undefined> {
  const row = await db
    .updateTable('orders')
    .set((eb) => ({ role_granted_at: eb.fn.coalesce('role_granted_at', eb.val(now)) }))
    .where('id', '=', orderId)
    .where('state', '!=', 'refunded')
    .returning(ORDER_COLUMNS)
    .executeTakeFirst();
  return row && toOrder(row);
}

/**
 * Whether the buyer has another order, not refunded, for a `discord_role` item with this role: refunding one
 * order must not take away a role another order still pays for.
 */
export async function roleStillBought(db: Db, order: Order, roleId: string): Promise<boolean> {
  const other = await db
    .selectFrom('orders as o')
    .innerJoin('listings as l', 'l.id', 'o.listing_id')
    .innerJoin('catalog_items as c', 'c.id', 'l.catalog_item_id')
    .select('o.id')
    .where('o.buyer_id', '=', order.buyerId)
    .where('o.id', '!=', order.id)
    .where('o.state', '!=', 'refunded')
    .where('c.kind', '=', 'discord_role')
    .where('c.role_id', '=', roleId)
    .executeTakeFirst();
  return other !== undefined;
}

/** Orders whose timer is due: pending past their escrow expiry, delivered past their confirm window. */
export async function dueOrders(
  db: Db,
  now: Date,
  limit = 500,
): Promise<{ expire: string[]; complete: string[] }> {
  const [expire, complete] = await Promise.all([
    db
      .selectFrom('orders')
      .select('id')
      .where('state', '=', 'pending')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute(),
    db
      .selectFrom('orders')
      .select('id')
      .where('state', '=', 'delivered')
      .where('confirm_deadline', '<=', now)
      .orderBy('confirm_deadline')
      .limit(limit)
      .execute(),
  ]);
  return { expire: expire.map((r) => String(r.id)), complete: complete.map((r) => String(r.id)) };
}

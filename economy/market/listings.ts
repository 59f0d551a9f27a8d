import { sql } from 'kysely';
import { z } from 'zod';
import { transact, type Db, type Tx } from '../../db/client.ts';
import { auditAction } from '../audit.ts';
import { AppError } from '../errors.ts';
import { MAX_AMOUNT } from '../ledger.ts';
import { escapeLike } from './catalog.ts';
import { assertWithinGuards, referencePrice } from './pricing.ts';
import { can, requirePermission, type Actor } from '../rbac.ts';
import {
  CATALOG_COLUMNS,
  LISTING_COLUMNS,
  RESTRICTED_KINDS,
  toCatalogItem,
  toListing,
  type Listing,
  type ListingState,
  type MarketSettings,
} from './types.ts';
import { parseInput } from './validation.ts';

/** Most units one listing may offer. */
export const MAX_LISTING_QUANTITY = 100_000;

const ID = /^[0-9]{1,18}$/;
const price = z.number().int('must be a whole number of coins').min(1).max(MAX_AMOUNT);
const quantity = z.number().int('must be a whole number').min(1).max(MAX_LISTING_QUANTITY);
const text = {
  title: z.string().trim().min(1).max(100),
  description: z.string().trim().max(1000).nullable(),
};

/** A URL or a masked link (`[text](target)`), however the scheme is written. */
const LINK = /\[[^\]]*\]\s*\(|[a-z][a-z0-9+.-]*:\/\/|\bwww\.|discord\.gg\/|<[a-z][a-z0-9+.-]*:/i;

/**
 * Players' listing text is shown in the public #shop as the bot's own message, so it may not carry links (a
 * "Claim reward" link there reads as Coinhub's). Official listings, written by admins, may.
 */
function refuseLinks(fields: { title?: string | null; description?: string | null }): void {
  for (const [name, value] of Object.entries(fields)) {
    if (value && LINK.test(value)) {
      throw new AppError(
        'links_not_allowed',
        `The ${name} may not contain links; describe the item in words.`,
        400,
        { field: name },
      );
    }
  }
}

const listingInput = z
  .object({
    catalogItemId: z.string().regex(ID, 'must be a catalog item id').nullable().optional(),
    title: text.title.optional(),
    description: text.description.optional(),
    unitPrice: price,
    quantity,
    /** Staff only (`market.manage`): an official listing of the server shop, with no seller. */
    official: z.boolean().optional(),
    /** Staff only (`market.manage`): list for this player (proceeds go to them). */
    sellerId: z.string().regex(ID).optional(),
    /** Admins only: bypass the price guards and the listing cap; the reason is audited. */
    guardOverrideReason: z.string().trim().min(3).max(500).optional(),
  })
  .strict()
  .refine((v) => v.catalogItemId || v.title, {
    message: 'a listing needs a title or a catalog item',
    path: ['title'],
  });
export type ListingInput = z.input<typeof listingInput>;

const listingUpdate = z
  .object({
    title: text.title.optional(),
    description: text.description.optional(),
    unitPrice: price.optional(),
    quantityTotal: quantity.optional(),
  })
  .strict();
export type ListingUpdate = z.input<typeof listingUpdate>;

export const listingNotFound = () => new AppError('listing_not_found', 'That listing does not exist.', 404);

const OPEN_STATES: ListingState[] = ['active', 'paused'];

/**
 * Creates a listing. A member lists as themselves (`market.trade`; capped at MARKET_MAX_ACTIVE_LISTINGS open
 * listings, price-guarded for catalog items, no links in the text); staff with `market.manage` create an
 * official listing (`official: true`) or one for `sellerId`, and may bypass the guards with an audited reason.
 * Only official listings may sell catalog items that grant something on the server (Discord roles, Minecraft
 * items).
 */
export async function createListing(
  db: Db,
  settings: MarketSettings,
  actor: Actor,
  input: ListingInput,
): Promise<Listing> {
  const data = parseInput(listingInput, input);
  if (data.official && data.sellerId !== undefined) {
    throw new AppError('invalid_input', 'An official listing has no seller.', 400);
  }
  const staff =
    data.official === true || data.sellerId !== undefined || data.guardOverrideReason !== undefined;
  requirePermission(actor, staff ? 'market.manage' : 'market.trade');
  const me = actor.kind === 'member' ? actor.userId : null;
  const sellerId = data.official ? null : (data.sellerId ?? me);
  const override = data.guardOverrideReason ?? null;
  if (sellerId !== null) refuseLinks({ title: data.title, description: data.description });

  return transact(db, async (trx) => {
    if (sellerId !== null) {
      // Locking the seller serialises their concurrent listings, so the cap cannot be raced past.
      const seller = await trx
        .selectFrom('users')
        .select(['id', 'frozen'])
        .where('id', '=', sellerId)
        .forNoKeyUpdate()
        .executeTakeFirst();
      if (!seller) throw new AppError('unknown_user', 'That player has no Coinhub account yet.', 404);
      if (seller.frozen) throw new AppError('seller_frozen', 'A frozen account cannot sell.', 403);
      if (!staff) await assertUnderCap(trx, sellerId, settings);
    }

    let title = data.title;
    if (data.catalogItemId) {
      const row = await trx
        .selectFrom('catalog_items')
        .select(CATALOG_COLUMNS)
        .where('id', '=', data.catalogItemId)
        .executeTakeFirst();
      if (!row) throw new AppError('catalog_item_not_found', 'No such catalog item.', 404);
      const item = toCatalogItem(row);
      if (!item.active)
        throw new AppError('catalog_item_inactive', `${item.name} can no longer be listed.`, 409);
      if (sellerId !== null && RESTRICTED_KINDS.includes(item.kind)) {
        throw new AppError(
          'official_only',
          `${item.name} is sold only by the server shop; players cannot list it.`,
          403,
        );
      }
      title ??= item.name;
      if (override === null) {
        assertWithinGuards(item.name, await referencePrice(trx, item.id), data.unitPrice, settings);
      }
    }

    const row = await trx
      .insertInto('listings')
      .values({
        seller_id: sellerId,
        official: sellerId === null,
        created_by: me,
        catalog_item_id: data.catalogItemId ?? null,
        title: title!,
        description: data.description ?? null,
        unit_price: data.unitPrice,
        quantity_total: data.quantity,
        quantity_left: data.quantity,
        guard_override: override !== null,
        guard_override_reason: override,
        guard_override_by: override === null ? null : me,
      })
      .returning(LISTING_COLUMNS)
      .executeTakeFirstOrThrow();
    const listing = toListing(row);
    if (staff) {
      await auditListing(trx, actor, 'market.listing.create', listing.id, undefined, listing, override);
    }
    return listing;
  });
}

async function assertUnderCap(trx: Tx, sellerId: string, settings: MarketSettings): Promise<void> {
  const { n } = await trx
    .selectFrom('listings')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('seller_id', '=', sellerId)
    .where('state', 'in', OPEN_STATES)
    .executeTakeFirstOrThrow();
  if (Number(n) >= settings.maxActiveListings) {
    throw new AppError(
      'listing_cap',
      `You already have ${settings.maxActiveListings} open listings, the most allowed; end one before listing more.`,
      409,
    );
  }
}

async function lockListing(trx: Tx, id: string): Promise<Listing> {
  const row = ID.test(id)
    ? await trx
        .selectFrom('listings')
        .select(LISTING_COLUMNS)
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst()
    : undefined;
  if (!row) throw listingNotFound();
  return toListing(row);
}

/**
 * Whether `actor` manages `listing` as its seller (false: as staff). The seller needs `market.trade` and an
 * account that is not frozen; anyone else, `market.manage` (the official listings, other players' listings).
 */
export function assertCanManage(actor: Actor, listing: Listing, actorFrozen: boolean): boolean {
  if (actor.kind === 'member' && listing.sellerId === actor.userId) {
    requirePermission(actor, 'market.trade');
    if (actorFrozen) {
      throw new AppError('seller_frozen', 'Your account is frozen, so you cannot change your listings.', 403);
    }
    return true;
  }
  if (!listing.official && !can(actor, 'market.manage')) {
    throw new AppError('not_your_listing', 'Only the seller can change this listing.', 403);
  }
  requirePermission(actor, 'market.manage');
  return false;
}

async function isFrozen(trx: Tx, actor: Actor): Promise<boolean> {
  if (actor.kind !== 'member') return false;
  const user = await trx
    .selectFrom('users')
    .select('frozen')
    .where('id', '=', actor.userId)
    .executeTakeFirst();
  return user?.frozen ?? false;
}

const ENDED: ListingState[] = ['cancelled', 'removed'];

function assertNotEnded(listing: Listing): void {
  if (ENDED.includes(listing.state)) throw new AppError('listing_ended', 'That listing has ended.', 409);
}

/** The state that matches a stock level: an active listing with nothing left is sold out, and back. */
const stockState = (state: ListingState, left: number): ListingState =>
  state === 'active' && left === 0 ? 'sold_out' : state === 'sold_out' && left > 0 ? 'active' : state;

/**
 * Changes a listing's text, price or total quantity (the seller, or an admin, audited). A new price is
 * guarded unless the listing carries an override; the total cannot drop below what has been sold.
 */
export async function updateListing(
  db: Db,
  settings: MarketSettings,
  actor: Actor,
  listingId: string,
  patch: ListingUpdate,
): Promise<Listing> {
  const data = parseInput(listingUpdate, patch);
  return transact(db, async (trx) => {
    const before = await lockListing(trx, listingId);
    const bySeller = assertCanManage(actor, before, await isFrozen(trx, actor));
    if (!before.official) refuseLinks({ title: data.title, description: data.description });
    assertNotEnded(before);
    if (
      data.unitPrice !== undefined &&
      data.unitPrice !== before.unitPrice &&
      before.catalogItemId &&
      !before.guardOverride
    ) {
      assertWithinGuards(
        before.title,
        await referencePrice(trx, before.catalogItemId),
        data.unitPrice,
        settings,
      );
    }
    let left = before.quantityLeft;
    if (data.quantityTotal !== undefined) {
      const sold = before.quantityTotal - before.quantityLeft;
      if (data.quantityTotal < sold) {
        throw new AppError(
          'quantity_below_sold',
          `${sold} ${sold === 1 ? 'unit is' : 'units are'} already sold or in escrow; the total cannot be lower.`,
          409,
        );
      }
      left = data.quantityTotal - sold;
    }
    const row = await trx
      .updateTable('listings')
      .set({
        ...(data.title === undefined ? {} : { title: data.title }),
        ...(data.description === undefined ? {} : { description: data.description }),
        ...(data.unitPrice === undefined ? {} : { unit_price: data.unitPrice }),
        ...(data.quantityTotal === undefined
          ? {}
          : { quantity_total: data.quantityTotal, quantity_left: left }),
        state: stockState(before.state, left),
        updated_at: sql`now()`,
      })
      .where('id', '=', before.id)
      .returning(LISTING_COLUMNS)
      .executeTakeFirstOrThrow();
    const listing = toListing(row);
    if (!bySeller) await auditListing(trx, actor, 'market.listing.update', listing.id, before, listing, null);
    return listing;
  });
}

type Move = {
  from: ListingState[];
  to: (l: Listing) => ListingState;
  action: string;
  /** Taken only with a permission, checked by the caller, never as the seller. */
  staffOnly?: boolean;
};

const MOVES = {
  pause: { from: ['active', 'sold_out'], to: () => 'paused', action: 'market.listing.pause' },
  resume: {
    from: ['paused'],
    to: (l) => (l.quantityLeft > 0 ? 'active' : 'sold_out'),
    action: 'market.listing.resume',
  },
  cancel: { from: ['active', 'paused', 'sold_out'], to: () => 'cancelled', action: 'market.listing.cancel' },
} satisfies Record<string, Move>;

async function moveListing(
  db: Db,
  actor: Actor,
  listingId: string,
  move: Move,
  reason: string | null,
): Promise<Listing> {
  return transact(db, async (trx) => {
    const before = await lockListing(trx, listingId);
    const bySeller = move.staffOnly ? false : assertCanManage(actor, before, await isFrozen(trx, actor));
    const to = move.to(before);
    if (before.state === to) return before;
    if (!move.from.includes(before.state)) {
      throw new AppError('listing_state', `That listing is ${before.state.replace('_', ' ')}.`, 409);
    }
    const row = await trx
      .updateTable('listings')
      .set({ state: to, updated_at: sql`now()`, ...(ENDED.includes(to) ? { ended_at: sql`now()` } : {}) })
      .where('id', '=', before.id)
      .where('state', '=', before.state)
      .returning(LISTING_COLUMNS)
      .executeTakeFirstOrThrow();
    const listing = toListing(row);
    if (!bySeller) await auditListing(trx, actor, move.action, listing.id, before, listing, reason);
    return listing;
  });
}

/** Hides a listing from buyers until resumed (the seller or an admin). */
export const pauseListing = (db: Db, actor: Actor, listingId: string) =>
  moveListing(db, actor, listingId, MOVES.pause, null);

export const resumeListing = (db: Db, actor: Actor, listingId: string) =>
  moveListing(db, actor, listingId, MOVES.resume, null);

/** Ends a listing (the seller). Orders already placed stay open: the seller still delivers or cancels them. */
export const cancelListing = (db: Db, actor: Actor, listingId: string) =>
  moveListing(db, actor, listingId, MOVES.cancel, null);

/** Staff (`order.cancel`) take a listing down, with an audited reason. Open orders stay open for admins to settle. */
export async function removeListing(
  db: Db,
  admin: Actor,
  listingId: string,
  reason: string,
): Promise<Listing> {
  requirePermission(admin, 'order.cancel');
  const why = requireReason(reason);
  return moveListing(
    db,
    admin,
    listingId,
    {
      from: ['active', 'paused', 'sold_out', 'cancelled'],
      to: () => 'removed',
      action: 'market.listing.remove',
      staffOnly: true,
    },
    why,
  );
}

/** Lets a listing's later price changes bypass the price guards; audited with the reason. */
export async function grantGuardOverride(
  db: Db,
  admin: Actor,
  listingId: string,
  reason: string,
): Promise<Listing> {
  requirePermission(admin, 'market.manage');
  const why = requireReason(reason);
  return transact(db, async (trx) => {
    const before = await lockListing(trx, listingId);
    assertNotEnded(before);
    const row = await trx
      .updateTable('listings')
      .set({
        guard_override: true,
        guard_override_reason: why,
        guard_override_by: admin.kind === 'member' ? admin.userId : null,
        updated_at: sql`now()`,
      })
      .where('id', '=', before.id)
      .returning(LISTING_COLUMNS)
      .executeTakeFirstOrThrow();
    const listing = toListing(row);
    await auditListing(trx, admin, 'market.listing.guard_override', listing.id, before, listing, why);
    return listing;
  });
}

export function requireReason(reason: string): string {
  const why = typeof reason === 'string' ? reason.trim() : '';
  if (why.length < 3 || why.length > 500) {
    throw new AppError(
      'reason_required',
      'Give a reason (3 to 500 characters); it goes to the audit log.',
      400,
    );
  }
  return why;
}

const auditListing = (
  trx: Tx,
  admin: Actor,
  action: string,
  id: string,
  before: unknown,
  after: unknown,
  reason: string | null,
) => auditAction(trx, admin, { action, target: { type: 'listing', id }, before, after, reason });

export async function getListing(db: Db | Tx, id: string): Promise<Listing | undefined> {
  if (!ID.test(id)) return undefined;
  const row = await db.selectFrom('listings').select(LISTING_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && toListing(row);
}

export type ListingSort = 'price_asc' | 'price_desc' | 'newest';

export interface ListingPage {
  listings: Listing[];
  page: number;
  pages: number;
  total: number;
}

/** One page of active listings for the shop browser. Pages past the end clamp to the last one. */
export async function browseListings(
  db: Db,
  options: { sort?: ListingSort; page?: number; pageSize?: number } = {},
): Promise<ListingPage> {
  const pageSize = Math.min(Math.max(Math.trunc(options.pageSize ?? 5), 1), 25);
  const { n } = await db
    .selectFrom('listings')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('state', '=', 'active')
    .executeTakeFirstOrThrow();
  const total = Number(n);
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(Math.max(Math.trunc(options.page ?? 1), 1), pages);
  let q = db.selectFrom('listings').select(LISTING_COLUMNS).where('state', '=', 'active');
  switch (options.sort ?? 'newest') {
    case 'price_asc':
      q = q.orderBy('unit_price', 'asc').orderBy('id', 'asc');
      break;
    case 'price_desc':
      q = q.orderBy('unit_price', 'desc').orderBy('id', 'desc');
      break;
    case 'newest':
      q = q.orderBy('id', 'desc');
  }
  const rows = await q
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
  return { listings: rows.map(toListing), page, pages, total };
}

/** Active listings whose title contains `query`, titles starting with it first, cheapest first: /shop autocomplete. */
export async function searchListings(db: Db, query: string, limit = 25): Promise<Listing[]> {
  const needle = escapeLike(query.trim().toLowerCase().slice(0, 100));
  const rows = await db
    .selectFrom('listings')
    .select(LISTING_COLUMNS)
    .where('state', '=', 'active')
    .where(sql<boolean>`lower(title) like ${`%${needle}%`}`)
    .orderBy(sql`lower(title) like ${`${needle}%`}`, 'desc')
    .orderBy('unit_price', 'asc')
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(limit, 1), 25))
    .execute();
  return rows.map(toListing);
}

/**
 * One page of a seller's open listings (active or paused; sold-out ones have ended), newest first; a null seller
 * means the official listings. Pages past the end clamp to the last one.
 */
export async function sellerListings(
  db: Db,
  sellerId: string | null,
  options: { page?: number; pageSize?: number } = {},
): Promise<ListingPage> {
  const pageSize = Math.min(Math.max(Math.trunc(options.pageSize ?? 4), 1), 25);
  const mine = db
    .selectFrom('listings')
    .where('seller_id', sellerId === null ? 'is' : '=', sellerId)
    .where('state', 'in', OPEN_STATES);
  const { n } = await mine.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  const total = Number(n);
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(Math.max(Math.trunc(options.page ?? 1) || 1, 1), pages);
  const rows = await mine
    .select(LISTING_COLUMNS)
    .orderBy('id', 'desc')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
  return { listings: rows.map(toListing), page, pages, total };
}

/** Records where a listing's #shop message lives, so later edits find it. */
export async function setShopMessage(
  db: Db,
  listingId: string,
  channelId: string,
  messageId: string,
): Promise<void> {
  await db
    .updateTable('listings')
    .set({ shop_channel_id: channelId, shop_message_id: messageId })
    .where('id', '=', listingId)
    .execute();
}

/** Discord ids of Coinhub users, for mentions and DMs. */
export async function discordIdsOf(db: Db | Tx, userIds: (string | null)[]): Promise<Map<string, string>> {
  const ids = [...new Set(userIds.filter((id): id is string => id !== null))];
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['id', 'discord_id']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [String(r.id), r.discord_id]));
}

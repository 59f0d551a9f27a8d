import {
  MARKET_IDS,
  renderEndPrompt,
  renderListingControls,
  renderSellerListings,
  SELLER_PAGE_SIZE,
  repriceModal,
  type ListingScope,
} from '../../../discord/views/market.ts';
import { coins } from '../../../discord/views/format.ts';
import {
  assertCanManage,
  cancelListing,
  getListing,
  listingNotFound,
  pauseListing,
  resumeListing,
  sellerListings,
  updateListing,
} from '../../../economy/market/listings.ts';
import type { Listing } from '../../../economy/market/types.ts';
import type { Actor } from '../../../economy/rbac.ts';
import { liveMarketSettings } from '../../../economy/settings.ts';
import { wholeNumber } from '../commands/sell.ts';
import { modalField } from '../options.ts';
import { actorMay, interactionActor } from '../permissions.ts';
import { closePrompt, reply, showModal, updateMessage } from '../responses.ts';
import type { ComponentHandler, InteractionContext, ModalHandler } from '../types.ts';
import { announceListing } from './market-shop.ts';

/** A page of /listings: the player's open listings, or for members who may manage the market the official ones. */
export async function sellerPage(ctx: InteractionContext, scope: ListingScope, page: number) {
  if (scope === 'official') await actorMay(ctx, 'market.manage');
  const listings = await sellerListings(ctx.deps.db, scope === 'official' ? null : ctx.user.id, {
    page,
    pageSize: SELLER_PAGE_SIZE,
  });
  return renderSellerListings(listings, scope, scope === 'official' ? null : ctx.user.discordId);
}

/**
 * The listing a control acts on, and who acts: its seller, or a member whose role may manage the market (for
 * an official listing; audited). Anyone else, and a frozen seller, is refused before a prompt or a form opens;
 * the economy checks again when the change is made.
 */
async function managedListing(
  ctx: InteractionContext,
  listingId: string | undefined,
): Promise<{ listing: Listing; actor: Actor }> {
  const listing = listingId ? await getListing(ctx.deps.db, listingId) : undefined;
  if (!listing) throw listingNotFound();
  const actor = await interactionActor(ctx);
  assertCanManage(actor, listing, ctx.user.frozen);
  return { listing, actor };
}

/**
 * The answer to a change: what happened (or that nothing did, for a repeated click) and the listing's card
 * with its controls. A change re-renders its #shop message through the coalescing job.
 */
async function changeAnswer(
  ctx: InteractionContext,
  before: Listing,
  after: Listing,
  done: string,
  same: string,
) {
  const moved = before.state !== after.state || before.unitPrice !== after.unitPrice;
  if (moved) await announceListing(ctx, after.id);
  return {
    content: moved ? done : same,
    ...renderListingControls(after, after.official ? null : ctx.user.discordId),
  };
}

const title = (l: Listing) => `**${l.title}**`;

/** Pause or Resume: the move, then what to say when it happened and when it had already. */
const pauseOrResume = (
  prefix: string,
  move: typeof pauseListing,
  say: (after: Listing) => { done: string; same: string },
): ComponentHandler => ({
  prefix,
  async handle(ctx, _interaction, [listingId]) {
    const { listing, actor } = await managedListing(ctx, listingId);
    const after = await move(ctx.deps.db, actor, listing.id);
    const { done, same } = say(after);
    return reply(await changeAnswer(ctx, listing, after, done, same));
  },
});

/** The seller's controls on their listings (from /listings): page, Pause, Resume, Reprice, End with a confirm step. */
export const marketListingComponents: ComponentHandler[] = [
  {
    prefix: MARKET_IDS.mine,
    handle: async (ctx, _interaction, [scope, page]) =>
      updateMessage(await sellerPage(ctx, scope === 'official' ? 'official' : 'own', Number(page) || 1)),
  },
  pauseOrResume(MARKET_IDS.pause, pauseListing, (after) => ({
    done: `Paused ${title(after)}: nobody can buy it until you resume it.`,
    same: `${title(after)} was already paused; nothing changed.`,
  })),
  pauseOrResume(MARKET_IDS.resume, resumeListing, (after) => ({
    done:
      after.state === 'active'
        ? `Resumed ${title(after)}: it is on sale again.`
        : `Resumed ${title(after)}; it is sold out until stock comes back.`,
    same: `${title(after)} was not paused; nothing changed.`,
  })),
  {
    prefix: MARKET_IDS.reprice,
    async handle(ctx, _interaction, [listingId]) {
      const { listing } = await managedListing(ctx, listingId);
      return showModal(repriceModal(listing));
    },
  },
  {
    prefix: MARKET_IDS.end,
    async handle(ctx, _interaction, [listingId]) {
      const { listing } = await managedListing(ctx, listingId);
      return reply(renderEndPrompt(listing));
    },
  },
  {
    // The listing is ended by a conditional update, so a second click (or a rival) finds it ended and changes nothing.
    prefix: MARKET_IDS.endConfirm,
    async handle(ctx, _interaction, [listingId]) {
      const { listing, actor } = await managedListing(ctx, listingId);
      const after = await cancelListing(ctx.deps.db, actor, listing.id);
      return updateMessage(
        await changeAnswer(
          ctx,
          listing,
          after,
          `Ended ${title(after)}. Orders already placed stay open: deliver or cancel them from \`/orders\`.`,
          `${title(after)} had already ended; nothing changed.`,
        ),
      );
    },
  },
  {
    prefix: MARKET_IDS.endKeep,
    handle: async () => closePrompt('Kept: the listing is unchanged.'),
  },
];

/** The Reprice form: the new unit price, guarded like a new listing (the refusal states the floor). */
export const repriceModalHandler: ModalHandler = {
  prefix: MARKET_IDS.price,
  async handle(ctx, interaction, [listingId]) {
    const { listing, actor } = await managedListing(ctx, listingId);
    const unitPrice = wholeNumber(modalField(interaction, 'price'), 'The price');
    const after = await updateListing(ctx.deps.db, await liveMarketSettings(ctx.deps), actor, listing.id, {
      unitPrice,
    });
    return reply(
      await changeAnswer(
        ctx,
        listing,
        after,
        `${title(after)} now costs ${coins(after.unitPrice)} each.`,
        `${title(after)} already costs ${coins(after.unitPrice)} each; nothing changed.`,
      ),
    );
  },
};

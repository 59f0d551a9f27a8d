import { HUB_BUTTONS } from '../../../discord/views/hub.ts';
import { coins } from '../../../discord/views/format.ts';
import {
  listingTitle,
  MARKET_IDS,
  renderBuyPrompt,
  renderListing,
  renderOrder,
  renderShopBrowser,
} from '../../../discord/views/market.ts';
import { AppError } from '../../../economy/errors.ts';
import {
  browseListings,
  discordIdsOf,
  getListing,
  type ListingSort,
} from '../../../economy/market/listings.ts';
import { marketFor } from '../../../economy/market/market.ts';
import type { Listing, Order } from '../../../economy/market/types.ts';
import type { OrderEvent } from '../../../discord/views/market.ts';
import { followUpOrder, grantBoughtRole, refreshShopListing } from '../../../jobs/market-events.ts';
import { notifyVoucher } from '../../../jobs/minecraft-events.ts';
import { deliverNowRow, voucherText } from '../../../discord/views/minecraft.ts';
import { issueVoucher } from '../../../economy/minecraft/vouchers.ts';
import { interactionActor } from '../permissions.ts';
import { closePrompt, reply, updateMessage } from '../responses.ts';
import type { ComponentHandler, InteractionContext } from '../types.ts';

const SORTS: ListingSort[] = ['newest', 'price_asc', 'price_desc'];
const PAGE_SIZE = 5;

async function listingOrThrow(ctx: InteractionContext, id: string | undefined): Promise<Listing> {
  const listing = id ? await getListing(ctx.deps.db, id) : undefined;
  if (!listing) throw new AppError('listing_not_found', 'That listing does not exist.', 404);
  return listing;
}

/** A listing's card, privately, with its Buy button. */
export async function showListing(ctx: InteractionContext, id: string | undefined) {
  const listing = await listingOrThrow(ctx, id);
  const sellers = await discordIdsOf(ctx.deps.db, [listing.sellerId]);
  return reply(renderListing(listing, listing.sellerId ? (sellers.get(listing.sellerId) ?? null) : null));
}

/** One page of the shop browser. */
export async function shopBrowser(ctx: InteractionContext, sort: ListingSort, page: number) {
  const result = await browseListings(ctx.deps.db, { sort, page, pageSize: PAGE_SIZE });
  const sellers = await discordIdsOf(
    ctx.deps.db,
    result.listings.map((l) => l.sellerId),
  );
  return renderShopBrowser(result, sort, sellers);
}

/** After an order changed: the market's follow-ups (followUpOrder); a queue outage is logged, not shown. */
export async function announce(
  ctx: InteractionContext,
  order: Order,
  event: OrderEvent,
  stockMoved: boolean,
) {
  if (!(await followUpOrder(ctx.deps.queues, order, event, ctx.deps.now(), stockMoved)))
    ctx.log.warn({ orderId: order.id, event }, 'market follow-up jobs not queued');
}

/** After a listing changed: its #shop message re-rendered (refreshShopListing); a queue outage is logged, not shown. */
export async function announceListing(ctx: InteractionContext, listingId: string) {
  if (!(await refreshShopListing(ctx.deps.queues, listingId, ctx.deps.now())))
    ctx.log.warn({ listingId }, 'shop message not queued');
}

/** The order as the invoking user sees it (buyer or seller); `listing` spares the read when the caller has it. */
export async function orderView(ctx: InteractionContext, order: Order, listing?: Listing) {
  const [found, ids] = await Promise.all([
    listing ?? getListing(ctx.deps.db, order.listingId),
    discordIdsOf(ctx.deps.db, [order.buyerId, order.sellerId]),
  ]);
  return renderOrderFor(ctx, order, found, ids);
}

/** orderView from the order's listing and the Discord ids of its parties, already loaded. */
export function renderOrderFor(
  ctx: InteractionContext,
  order: Order,
  listing: Listing | undefined,
  discordIds: Map<string, string>,
) {
  return renderOrder({
    order,
    title: listing ? listingTitle(listing) : 'an item',
    viewer: order.buyerId === ctx.user.id ? 'buyer' : 'seller',
    buyerDiscordId: discordIds.get(order.buyerId)!,
    sellerDiscordId: order.sellerId ? (discordIds.get(order.sellerId) ?? null) : null,
  });
}

export const marketShopComponents: ComponentHandler[] = [
  {
    // The hub's Shop button opens the browser.
    prefix: HUB_BUTTONS.shop,
    handle: async (ctx) => reply(await shopBrowser(ctx, 'newest', 1)),
  },
  {
    prefix: MARKET_IDS.page,
    async handle(ctx, _interaction, [sort, page]) {
      const s = SORTS.includes(sort as ListingSort) ? (sort as ListingSort) : 'newest';
      return updateMessage(await shopBrowser(ctx, s, Number(page) || 1));
    },
  },
  {
    prefix: MARKET_IDS.open,
    handle: (ctx, interaction) =>
      showListing(ctx, 'values' in interaction.data ? interaction.data.values[0] : undefined),
  },
  {
    // Buy opens the confirm step; its interaction id keys the purchase, however often Confirm is clicked.
    prefix: MARKET_IDS.buy,
    async handle(ctx, interaction, [listingId]) {
      const listing = await listingOrThrow(ctx, listingId);
      if (listing.state !== 'active')
        throw new AppError('listing_unavailable', 'That listing is not on sale now.', 409);
      if (listing.sellerId === ctx.user.id)
        throw new AppError('self_purchase', 'You cannot buy your own listing.', 403);
      return reply(renderBuyPrompt(interaction.id, listing, 1));
    },
  },
  {
    prefix: MARKET_IDS.quantity,
    async handle(ctx, interaction, [promptId, listingId]) {
      const listing = await listingOrThrow(ctx, listingId);
      const qty = Number('values' in interaction.data ? interaction.data.values[0] : 1);
      if (listing.state !== 'active') return closePrompt('That listing is not on sale any more.');
      return updateMessage(
        renderBuyPrompt(promptId!, listing, Math.min(Math.max(qty, 1), listing.quantityLeft)),
      );
    },
  },
  {
    prefix: MARKET_IDS.confirm,
    async handle(ctx, _interaction, [promptId, listingId, qty, price]) {
      if (!promptId || !listingId)
        return closePrompt('This purchase prompt is broken; open the listing again.');
      try {
        const bought = await marketFor(ctx.deps).buy(await interactionActor(ctx), {
          key: `discord:${promptId}`,
          listingId,
          quantity: Number(qty),
          expectedUnitPrice: Number(price),
        });
        const { listing, replayed } = bought;
        // A Minecraft item comes with a voucher (also on a replay, which shows the same one).
        const issued = listing.catalogItemId
          ? await issueVoucher(ctx.deps.db, bought.order, ctx.deps.cfg.VOUCHER_TIMEOUT_H, ctx.deps.now())
          : null;
        const order = issued?.order ?? bought.order;
        if (!replayed) {
          await announce(ctx, order, 'placed', true);
          if (issued) {
            if (!(await notifyVoucher(ctx.deps.queues, issued.voucher.id)))
              ctx.log.warn({ orderId: order.id }, 'voucher DM not queued');
          } else if (listing.catalogItemId) await grantBoughtRole(ctx.deps.queues, order);
        }
        const view = await orderView(ctx, order, listing);
        const content = `Order placed: ${order.quantity} × for ${coins(order.total)}, held in escrow.`;
        if (!issued) return updateMessage({ content, ...view });
        return updateMessage({
          content: `${content}\nYour voucher: ${voucherText(issued.voucher)}`,
          embeds: view.embeds,
          components: [
            ...view.components,
            ...(ctx.user.minecraftName && issued.voucher.state === 'issued'
              ? [deliverNowRow(issued.voucher)]
              : []),
          ],
        });
      } catch (err) {
        // A busy market is worth another click, so the prompt stays; any other refusal is final.
        if (err instanceof AppError && err.status !== 503) return closePrompt(`Not bought. ${err.message}`);
        throw err;
      }
    },
  },
  { prefix: MARKET_IDS.cancel, handle: async () => closePrompt('Purchase cancelled; nothing was charged.') },
];

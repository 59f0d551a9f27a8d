import { DiscordAPIError } from '@discordjs/rest';
import { Routes, type APIChannel, type APIMessage } from 'discord-api-types/v10';
import { UnrecoverableError } from 'bullmq';
import { orderNotice, renderListing } from '../../discord/views/market.ts';
import { getCatalogItem } from '../../economy/market/catalog.ts';
import { discordIdsOf, getListing, setShopMessage, shopChannel } from '../../economy/market/listings.ts';
import { marketFor } from '../../economy/market/market.ts';
import { getOrder } from '../../economy/market/orders.ts';
import type { PayloadOf, grantRoleJob, orderNoticeJob, shopRefreshJob } from '../definitions.ts';
import { notifyOrder, scheduleOrderTimer } from '../market-events.ts';
import type { WorkerDeps } from '../worker.ts';

const status = (err: unknown) => (err instanceof DiscordAPIError ? err.status : undefined);
const NO_MENTIONS = { allowed_mentions: { parse: [] } };

/**
 * Posts a listing's #shop message, or edits it to the listing's current stock, price and state (an ended
 * listing keeps its message, marked ended, with the Buy button disabled). Without a #shop channel it does
 * nothing; /setup makes one.
 */
export async function handleShopRefresh(
  deps: WorkerDeps,
  { listingId }: PayloadOf<typeof shopRefreshJob>,
): Promise<{ posted: boolean; edited: boolean }> {
  const listing = await getListing(deps.db, listingId);
  if (!listing) throw new UnrecoverableError(`listing ${listingId} does not exist`);
  const channelId = listing.shopChannelId ?? (await shopChannel(deps.db, deps.cfg.GUILD_ID));
  if (!channelId) return { posted: false, edited: false };
  const sellers = await discordIdsOf(deps.db, [listing.sellerId]);
  const body = {
    ...renderListing(listing, listing.sellerId ? (sellers.get(listing.sellerId) ?? null) : null),
    ...NO_MENTIONS,
  };
  if (listing.shopMessageId) {
    try {
      await deps.rest.patch(Routes.channelMessage(channelId, listing.shopMessageId), { body });
      return { posted: false, edited: true };
    } catch (err) {
      // Someone deleted the message: post a new one while the listing is on sale.
      if (status(err) !== 404) throw err;
    }
  }
  if (listing.state !== 'active') return { posted: false, edited: false };
  const message = (await deps.rest.post(Routes.channelMessages(channelId), { body })) as APIMessage;
  await setShopMessage(deps.db, listing.id, channelId, message.id);
  return { posted: true, edited: false };
}

/** DMs one side of an order. Discord refusing a DM (closed DMs, unknown user) never affects the order. */
export async function handleOrderNotice(
  deps: WorkerDeps,
  { orderId, event, to }: PayloadOf<typeof orderNoticeJob>,
): Promise<{ sent: boolean }> {
  const order = await getOrder(deps.db, orderId);
  if (!order) throw new UnrecoverableError(`order ${orderId} does not exist`);
  const listing = await getListing(deps.db, order.listingId);
  const ids = await discordIdsOf(deps.db, [order.buyerId, order.sellerId]);
  const recipient = ids.get(to === 'buyer' ? order.buyerId : (order.sellerId ?? ''));
  if (!recipient) return { sent: false };
  const body = {
    ...orderNotice(event, {
      order,
      title: listing?.title ?? 'an item',
      viewer: to,
      buyerDiscordId: ids.get(order.buyerId)!,
      sellerDiscordId: order.sellerId ? (ids.get(order.sellerId) ?? null) : null,
    }),
    ...NO_MENTIONS,
  };
  try {
    const channel = (await deps.rest.post(Routes.userChannels(), {
      body: { recipient_id: recipient },
    })) as APIChannel;
    await deps.rest.post(Routes.channelMessages(channel.id), { body });
    return { sent: true };
  } catch (err) {
    const code = status(err);
    if (code !== undefined && code >= 400 && code < 500 && code !== 429) {
      deps.log.info({ orderId, to, status: code }, 'order DM refused by Discord; the order goes on');
      return { sent: false };
    }
    throw err;
  }
}

/**
 * Delivers a bought `discord_role` catalog item: adds the role to the buyer in GUILD_ID through the REST API,
 * then marks the order delivered (the confirm window starts). Other items are left to their seller.
 */
export async function handleGrantRole(
  deps: WorkerDeps,
  { orderId }: PayloadOf<typeof grantRoleJob>,
): Promise<{ granted: boolean }> {
  const order = await getOrder(deps.db, orderId);
  if (!order) throw new UnrecoverableError(`order ${orderId} does not exist`);
  const listing = await getListing(deps.db, order.listingId);
  const item = listing?.catalogItemId ? await getCatalogItem(deps.db, listing.catalogItemId) : undefined;
  if (!item || item.kind !== 'discord_role' || !item.roleId || order.state !== 'pending')
    return { granted: false };
  if (!deps.cfg.GUILD_ID) throw new UnrecoverableError('GUILD_ID is not set, so roles cannot be granted');
  const buyer = (await discordIdsOf(deps.db, [order.buyerId])).get(order.buyerId)!;
  try {
    await deps.rest.put(Routes.guildMemberRole(deps.cfg.GUILD_ID, buyer, item.roleId), {
      reason: `Coinhub order #${order.id}`,
    });
  } catch (err) {
    const code = status(err);
    if (code === 403 || code === 404)
      throw new UnrecoverableError(`Discord refused the role grant (${code})`);
    throw err;
  }
  const { order: delivered, changed } = await marketFor(deps).markDelivered(order.id, { kind: 'system' });
  if (changed) {
    await scheduleOrderTimer(deps.queues, delivered, marketFor(deps).now());
    await notifyOrder(deps.queues, delivered, 'delivered');
  }
  return { granted: true };
}

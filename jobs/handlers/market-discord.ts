import { DiscordAPIError } from '@discordjs/rest';
import { Routes, type APIChannel, type APIMessage } from 'discord-api-types/v10';
import { UnrecoverableError } from 'bullmq';
import { messageNonce } from '../../discord/nonce.ts';
import { listingTitle, orderNotice, renderListing } from '../../discord/views/market.ts';
import { AppError } from '../../economy/errors.ts';
import { getCatalogItem } from '../../economy/market/catalog.ts';
import { guildChannel } from '../../economy/guild-settings.ts';
import { discordIdsOf, getListing, setShopMessage } from '../../economy/market/listings.ts';
import { marketFor } from '../../economy/market/market.ts';
import { claimRoleGrant, getOrder, roleStillBought } from '../../economy/market/orders.ts';
import { RESTRICTED_KINDS, type Order } from '../../economy/market/types.ts';
import { systemActor } from '../../economy/rbac.ts';
import type {
  PayloadOf,
  grantRoleJob,
  orderNoticeJob,
  revokeRoleJob,
  shopRefreshJob,
} from '../definitions.ts';
import { followUpOrder } from '../market-events.ts';
import type { WorkerDeps } from '../deps.ts';

const status = (err: unknown) => (err instanceof DiscordAPIError ? err.status : undefined);
const NO_MENTIONS = { allowed_mentions: { parse: [] } };

/**
 * Posts a listing's #shop message, or edits it to the listing's current stock, price and state (an ended
 * listing keeps its message, marked ended, with the Buy button disabled). Without a #shop channel it does
 * nothing; /setup makes one. The post carries a nonce for this listing and the message it replaces, so two
 * refreshes racing, or a retry after a crash between Discord's answer and saving the id, leave one message.
 */
export async function handleShopRefresh(
  deps: Pick<WorkerDeps, 'db' | 'cfg' | 'rest'>,
  { listingId }: PayloadOf<typeof shopRefreshJob>,
): Promise<{ posted: boolean; edited: boolean }> {
  const listing = await getListing(deps.db, listingId);
  if (!listing) throw new UnrecoverableError(`listing ${listingId} does not exist`);
  const channelId =
    listing.shopChannelId ?? (await guildChannel(deps.db, 'shop_channel_id', deps.cfg.GUILD_ID));
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
  const nonce = messageNonce('shop', listing.id, listing.shopMessageId ?? 'first');
  const message = (await deps.rest.post(Routes.channelMessages(channelId), {
    body: { ...body, nonce, enforce_nonce: true },
  })) as APIMessage;
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
      title: listing ? listingTitle(listing) : 'an item',
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

/** A `discord_role` catalog order with its role and whether its listing is official; null for other items. */
async function roleOrder(
  deps: WorkerDeps,
  orderId: string,
): Promise<{ order: Order; roleId: string; official: boolean } | null> {
  const order = await getOrder(deps.db, orderId);
  if (!order) throw new UnrecoverableError(`order ${orderId} does not exist`);
  const listing = await getListing(deps.db, order.listingId);
  const item = listing?.catalogItemId ? await getCatalogItem(deps.db, listing.catalogItemId) : undefined;
  return item && RESTRICTED_KINDS.includes(item.kind) && item.roleId
    ? { order, roleId: item.roleId, official: listing!.official }
    : null;
}

/** The REST route of the buyer's membership of `roleId` in GUILD_ID. */
async function buyerRoleRoute(deps: WorkerDeps, order: Order, roleId: string) {
  if (!deps.cfg.GUILD_ID) throw new UnrecoverableError('GUILD_ID is not set, so roles cannot be changed');
  const buyer = (await discordIdsOf(deps.db, [order.buyerId])).get(order.buyerId)!;
  return Routes.guildMemberRole(deps.cfg.GUILD_ID, buyer, roleId);
}

/**
 * Delivers a bought `discord_role` catalog item: adds the role to the buyer in GUILD_ID through the REST API,
 * then marks a pending order delivered (the confirm window starts). An order its seller already marked
 * delivered, or that completed, still gets the role; a refunded one does not. Jobs retry and may run twice,
 * so the database decides: the grant is recorded before the REST call (`claimRoleGrant`) unless the order is
 * refunded, and the order is read again after it. Refunded by then, or before a retry of a run that may have
 * added it, the role is taken back here, after this run's own call (a revoke job queued by the refund may
 * have run before it).
 */
export async function handleGrantRole(
  deps: WorkerDeps,
  { orderId }: PayloadOf<typeof grantRoleJob>,
): Promise<{ granted: boolean }> {
  const found = await roleOrder(deps, orderId);
  if (!found) return { granted: false };
  const market = marketFor(deps);
  if (!found.official) {
    // Only the server shop sells roles (the database refuses such listings now; older ones may remain).
    const { order, changed } = await market.refuseRestricted(orderId, systemActor(`grant-role:${orderId}`));
    if (changed) await followUpOrder(deps.queues, order, 'refunded', market.now(), true);
    deps.log.warn({ orderId }, 'role bought from a player listing: refused and refunded');
    return { granted: false };
  }
  const order = await claimRoleGrant(deps.db, orderId, market.now());
  if (!order) {
    const refunded = await getOrder(deps.db, orderId);
    if (refunded?.roleGrantedAt) await revokeRole(deps, refunded, found.roleId);
    return { granted: false };
  }
  try {
    await deps.rest.put(await buyerRoleRoute(deps, order, found.roleId), {
      reason: `Coinhub order #${order.id}`,
    });
  } catch (err) {
    const code = status(err);
    if (code === 403 || code === 404)
      throw new UnrecoverableError(`Discord refused the role grant (${code})`);
    throw err;
  }
  // The order after the grant: as this run's delivery left it, else read again to see a refund.
  let after: Order | undefined;
  if (order.state === 'pending') {
    try {
      const { order: delivered, changed } = await market.markDelivered(
        order.id,
        systemActor(`grant-role:${order.id}`),
      );
      if (changed) {
        await followUpOrder(deps.queues, delivered, 'delivered', market.now(), false);
        after = delivered;
      }
    } catch (err) {
      // Refunded, expired or settled meanwhile: the order moved on without this delivery.
      if (!(err instanceof AppError) || err.code === 'busy') throw err;
    }
  }
  after ??= await getOrder(deps.db, orderId);
  if (after?.state === 'refunded') await revokeRole(deps, after, found.roleId);
  return { granted: true };
}

/**
 * Takes back the role of a refunded `discord_role` order (DELETE guild member role), unless another of the
 * buyer's orders still pays for it. Discord refusing (the member left, the role is gone, missing permission)
 * is logged and dropped: the refund has happened and stands either way. Removing a role twice is harmless.
 */
export async function handleRevokeRole(
  deps: WorkerDeps,
  { orderId }: PayloadOf<typeof revokeRoleJob>,
): Promise<{ revoked: boolean }> {
  const found = await roleOrder(deps, orderId);
  return found ? revokeRole(deps, found.order, found.roleId) : { revoked: false };
}

/** `handleRevokeRole` for an order whose role is known. */
async function revokeRole(deps: WorkerDeps, order: Order, roleId: string): Promise<{ revoked: boolean }> {
  // A grant never cleared never added the role: the buyer may hold it for another reason, so it stays.
  if (order.state !== 'refunded' || order.roleGrantedAt === null) return { revoked: false };
  if (await roleStillBought(deps.db, order, roleId)) {
    deps.log.info(
      { orderId: order.id, roleId },
      'refunded role kept: another order of the buyer still pays for it',
    );
    return { revoked: false };
  }
  try {
    await deps.rest.delete(await buyerRoleRoute(deps, order, roleId), {
      reason: `Coinhub order #${order.id} refunded`,
    });
  } catch (err) {
    const code = status(err);
    if (code !== undefined && code >= 400 && code < 500 && code !== 429) {
      deps.log.warn(
        { orderId: order.id, roleId, status: code },
        'Discord refused to remove the role of a refunded order; the refund stands',
      );
      return { revoked: false };
    }
    throw err;
  }
  deps.log.info({ orderId: order.id, roleId }, 'role of a refunded order removed');
  return { revoked: true };
}

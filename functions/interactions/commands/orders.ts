import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { discordIdsOf } from '../../../economy/market/listings.ts';
import { loadListings, ordersForUser } from '../../../economy/market/orders.ts';
import { renderOrderFor } from '../components/market-shop.ts';
import { reply, replyText } from '../responses.ts';
import type { Command } from '../types.ts';

/** Orders one message can show: one embed and one row of buttons each, and Discord allows five rows. */
const SHOWN = 5;

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'orders',
  description: 'Your open marketplace orders, as buyer or seller, with their buttons',
};

/** /orders: the newest open orders of the player, whether or not their DMs arrived. */
export const ordersCommand: Command = {
  definition,
  async handle(ctx) {
    const orders = await ordersForUser(ctx.deps.db, ctx.user.id, { open: true, limit: SHOWN });
    if (orders.length === 0) return replyText('You have no open orders.');
    const [listings, discordIds] = await Promise.all([
      loadListings(ctx.deps.db, [...new Set(orders.map((o) => o.listingId))]),
      discordIdsOf(
        ctx.deps.db,
        orders.flatMap((o) => [o.buyerId, o.sellerId]),
      ),
    ]);
    const views = orders.map((o) => renderOrderFor(ctx, o, listings.get(o.listingId), discordIds));
    return reply({
      embeds: views.flatMap((v) => v.embeds),
      components: views.flatMap((v) => v.components),
    });
  },
};

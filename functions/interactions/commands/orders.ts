import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { discordIdsOf } from '../../../economy/market/listings.ts';
import { loadListings, ordersForUser } from '../../../economy/market/orders.ts';
import { renderOrderFor } from '../components/market-shop.ts';
import { voucherText } from '../../../discord/views/minecraft.ts';
import { vouchersForOrders } from '../../../economy/minecraft/vouchers.ts';
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
    const [listings, discordIds, vouchers] = await Promise.all([
      loadListings(ctx.deps.db, [...new Set(orders.map((o) => o.listingId))]),
      discordIdsOf(
        ctx.deps.db,
        orders.flatMap((o) => [o.buyerId, o.sellerId]),
      ),
      vouchersForOrders(
        ctx.deps.db,
        orders.filter((o) => o.buyerId === ctx.user.id).map((o) => o.id),
      ),
    ]);
    const views = orders.map((o) => {
      const view = renderOrderFor(ctx, o, listings.get(o.listingId), discordIds);
      const voucher = vouchers.get(o.id);
      if (voucher) view.embeds[0]!.fields!.push({ name: 'Minecraft voucher', value: voucherText(voucher) });
      return view;
    });
    return reply({
      embeds: views.flatMap((v) => v.embeds),
      components: views.flatMap((v) => v.components),
    });
  },
};

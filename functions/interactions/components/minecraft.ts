import { MINECRAFT_IDS, voucherText } from '../../../discord/views/minecraft.ts';
import { AppError } from '../../../economy/errors.ts';
import { redeemForBuyer } from '../../../economy/minecraft/vouchers.ts';
import { queueDelivery } from '../../../jobs/minecraft-events.ts';
import { replyText } from '../responses.ts';
import type { ComponentHandler } from '../types.ts';

/** "Deliver now": the buyer redeems their voucher for their linked account from Discord. */
export const deliverNowButton: ComponentHandler = {
  prefix: MINECRAFT_IDS.deliver,
  async handle(ctx, _interaction, [voucherId]) {
    if (!voucherId) throw new AppError('unknown_voucher', 'That is not your voucher.', 404);
    const voucher = await redeemForBuyer(ctx.deps.db, voucherId, ctx.user.id, ctx.deps.now());
    if (!(await queueDelivery(ctx.deps.queues, voucher.id, 'discord')))
      ctx.log.warn({ voucherId }, 'delivery not queued; the sweeper will');
    return replyText(
      `On its way to ${voucher.playerName}: ${voucherText(voucher)}. If you are offline, it arrives when you join.`,
    );
  },
};

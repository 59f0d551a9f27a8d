import { FEED_IDS, type MarketAction } from '../../../discord/views/feed.ts';
import { coins } from '../../../discord/views/format.ts';
import { freezeUser, noteTransfer, unfreezeUser } from '../../../economy/admin.ts';
import { AppError } from '../../../economy/errors.ts';
import { removeListing } from '../../../economy/market/listings.ts';
import { marketFor } from '../../../economy/market/market.ts';
import { refreshFeedMessage, transferPanel } from '../components/feed.ts';
import { announce, announceListing } from '../components/market-shop.ts';
import { modalField } from '../options.ts';
import { interactionActor } from '../permissions.ts';
import { replyText } from '../responses.ts';
import type { InteractionContext, ModalHandler } from '../types.ts';

const freezeModalHandler = (unfreeze: boolean): ModalHandler => ({
  prefix: unfreeze ? FEED_IDS.unfreeze : FEED_IDS.freeze,
  async handle(ctx, interaction, [userId, transferId]) {
    if (!userId || !transferId) throw new AppError('user_not_found', 'That user has no Coinhub wallet.', 404);
    const input = { userId, reason: modalField(interaction, 'text') };
    const actor = await interactionActor(ctx);
    const result = unfreeze
      ? await unfreezeUser(ctx.deps, actor, input)
      : await freezeUser(ctx.deps, actor, input);
    const name = await username(ctx, userId);
    if (!result.changed)
      return replyText(`${name} was already ${unfreeze ? 'unfrozen' : 'frozen'}; nothing changed.`);
    await refreshFeedMessage(ctx, transferId, result.audit!.id);
    return replyText(
      unfreeze
        ? `Unfroze ${name}: they can spend and receive coins again. Audited.`
        : `Froze ${name}: they can neither spend nor receive coins until unfrozen. Audited.`,
    );
  },
});

async function username(ctx: InteractionContext, userId: string): Promise<string> {
  const row = await ctx.deps.db
    .selectFrom('users')
    .select('username')
    .where('id', '=', userId)
    .executeTakeFirst();
  return row?.username ?? `user ${userId}`;
}

const noteModalHandler: ModalHandler = {
  prefix: FEED_IDS.note,
  async handle(ctx, interaction, [transferId]) {
    const entry = await noteTransfer(ctx.deps, await interactionActor(ctx), {
      transferId: transferId ?? '',
      note: modalField(interaction, 'text'),
    });
    await refreshFeedMessage(ctx, transferId!, entry.id);
    return replyText(`Note added to #${transferId}; it shows on the feed.`);
  },
};

/**
 * Refund order, Fulfil and Cancel listing through the market, which moves state, stock and coins together. An
 * order action then takes the same follow-ups as any other transition: DMs, #shop when stock came back, and a
 * granted role taken back. A cancelled listing's #shop message is marked ended, as when its seller ends it.
 */
const marketModalHandler = (prefix: MarketAction): ModalHandler => ({
  prefix,
  async handle(ctx, interaction, [targetId, transferId]) {
    if (!targetId || !transferId)
      throw new AppError('not_found', 'That order or listing does not exist.', 404);
    const reason = modalField(interaction, 'text');
    const admin = await interactionActor(ctx);
    if (prefix === FEED_IDS.listingCancel) {
      const listing = await removeListing(ctx.deps.db, admin, targetId, reason);
      await announceListing(ctx, listing.id);
      await refreshFeedMessage(ctx, transferId, `${ctx.interaction.id}`);
      return replyText(`Listing #${listing.id} is cancelled (${listing.state}). Audited.`);
    }
    const market = marketFor(ctx.deps);
    const refund = prefix === FEED_IDS.orderRefund;
    const result = refund
      ? await market.adminRefund(targetId, admin, reason)
      : await market.adminFulfil(targetId, admin, reason);
    if (!result.changed)
      return replyText(`Order #${targetId} is already ${result.order.state}; nothing changed.`);
    await announce(ctx, result.order, refund ? 'refunded' : 'completed', result.restocked !== null);
    await refreshFeedMessage(ctx, transferId, `${ctx.interaction.id}`);
    return replyText(
      refund
        ? `Order #${targetId} refunded: ${coins(result.order.total)} back to the buyer. Audited.`
        : `Order #${targetId} fulfilled: the seller is paid from escrow. Audited.`,
    );
  },
});

/** "Act on a transaction…" on a compact feed message: the id typed in opens that transaction's panel. */
const pickByIdModalHandler: ModalHandler = {
  prefix: FEED_IDS.pickById,
  async handle(ctx, interaction) {
    const id = modalField(interaction, 'text').trim().replace(/^#/, '');
    return transferPanel(ctx, id);
  },
};

export const feedModals: ModalHandler[] = [
  freezeModalHandler(false),
  freezeModalHandler(true),
  noteModalHandler,
  marketModalHandler(FEED_IDS.orderRefund),
  marketModalHandler(FEED_IDS.orderFulfil),
  marketModalHandler(FEED_IDS.listingCancel),
  pickByIdModalHandler,
];

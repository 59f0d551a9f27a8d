import {
  FEED_IDS,
  freezeModal,
  marketActionModal,
  noteModal,
  pickByIdModal,
  renderRefundConfirm,
  renderTransferPanel,
  type MarketAction,
} from '../../../discord/views/feed.ts';
import { coins } from '../../../discord/views/format.ts';
import { refundTransfer, transferNotFound } from '../../../economy/admin.ts';
import { AppError } from '../../../economy/errors.ts';
import { feedAnnotations, feedTransfer } from '../../../economy/feed.ts';
import type { Action } from '../../../economy/rbac.ts';
import { feedRefreshJob } from '../../../jobs/definitions.ts';
import { actorMay, interactionActor } from '../permissions.ts';
import { closePrompt, reply, replyText, showModal } from '../responses.ts';
import type { ComponentHandler, InteractionContext } from '../types.ts';

/**
 * Asks the worker to re-render the feed message showing `transferId`. The action already happened, so a
 * queue outage only delays the edit (the next refresh of that message shows it); it does not fail the reply.
 */
export async function refreshFeedMessage(
  ctx: InteractionContext,
  transferId: string,
  key: string,
): Promise<void> {
  try {
    await ctx.deps.queues.enqueue(feedRefreshJob, { transferId }, { jobId: `feed-refresh-${key}` });
  } catch (err) {
    ctx.log.warn({ err, transferId }, 'could not queue the feed message refresh');
  }
}

async function loadTransfer(ctx: InteractionContext, id: string | undefined) {
  const t = id ? await feedTransfer(ctx.deps.db, id) : undefined;
  if (!t) throw transferNotFound();
  return t;
}

/** Refund on the feed: a private confirm step first. */
const refundButton: ComponentHandler = {
  prefix: FEED_IDS.refund,
  async handle(ctx, _interaction, [transferId]) {
    await actorMay(ctx, 'tx.refund');
    const t = await loadTransfer(ctx, transferId);
    if (t.order)
      throw new AppError(
        'order_refund_required',
        `#${t.id} belongs to order #${t.order.id}; refund the order.`,
        409,
      );
    if (!t.refundable)
      return replyText(`Nothing to refund on #${t.id}: it was already refunded or returns coins itself.`);
    return reply(renderRefundConfirm(t));
  },
};

/** Confirm of Refund: refunds once however often it is clicked, then updates the feed message. */
const refundConfirmButton: ComponentHandler = {
  prefix: FEED_IDS.refundConfirm,
  async handle(ctx, _interaction, [transferId]) {
    const result = await refundTransfer(ctx.deps, await interactionActor(ctx), {
      transferId: transferId ?? '',
    });
    if (!result.changed) {
      return closePrompt(`#${transferId} was already refunded; nothing changed.`);
    }
    await refreshFeedMessage(ctx, transferId!, result.audit!.id);
    const how = result.outcome === 'voided' ? 'voided the escrow hold' : 'posted a compensating transfer';
    return closePrompt(
      `Refunded ${coins(result.amount)} on #${transferId} (${how}: #${result.transferIds.join(', #')}). The feed shows who acted.`,
    );
  },
};

/** "Keep" on a confirm prompt. */
const dismissButton: ComponentHandler = {
  prefix: FEED_IDS.dismiss,
  async handle() {
    return closePrompt('Nothing changed.');
  },
};

/** Freeze and Unfreeze on the feed open a modal that asks the reason; submitting it confirms. */
const freezeButton = (unfreeze: boolean): ComponentHandler => ({
  prefix: unfreeze ? FEED_IDS.unfreeze : FEED_IDS.freeze,
  async handle(ctx, _interaction, [userId, transferId]) {
    await actorMay(ctx, 'user.freeze');
    const user = userId
      ? await ctx.deps.db
          .selectFrom('users')
          .select(['username', 'frozen'])
          .where('id', '=', userId)
          .executeTakeFirst()
      : undefined;
    if (!user || !transferId) throw new AppError('user_not_found', 'That user has no Coinhub wallet.', 404);
    if (user.frozen !== unfreeze) {
      return replyText(
        `${user.username} is already ${user.frozen ? 'frozen' : 'not frozen'}; nothing to do.`,
      );
    }
    return showModal(freezeModal(userId!, transferId, user.username, unfreeze));
  },
});

const noteButton: ComponentHandler = {
  prefix: FEED_IDS.note,
  async handle(ctx, _interaction, [transferId]) {
    await actorMay(ctx, 'tx.note');
    const t = await loadTransfer(ctx, transferId);
    return showModal(noteModal(t.id));
  },
};

/** The permission each market action on the feed needs. */
export const MARKET_PERMISSION: Record<MarketAction, Action> = {
  [FEED_IDS.orderRefund]: 'tx.refund',
  [FEED_IDS.orderFulfil]: 'order.fulfil',
  [FEED_IDS.listingCancel]: 'order.cancel',
};

/** Refund order, Fulfil and Cancel listing: a modal asks the reason the market's audit row needs. */
const marketButton = (prefix: MarketAction): ComponentHandler => ({
  prefix,
  async handle(ctx, _interaction, [targetId, transferId]) {
    await actorMay(ctx, MARKET_PERMISSION[prefix]);
    if (!targetId || !/^\d{1,18}$/.test(targetId) || !transferId) throw transferNotFound();
    return showModal(marketActionModal(prefix, targetId, transferId));
  },
});

/** A transaction picked from a coalesced message: its embed and buttons, privately. */
export async function transferPanel(ctx: InteractionContext, transferId: string | undefined) {
  await actorMay(ctx, 'feed.view');
  const t = await loadTransfer(ctx, transferId);
  const annotations = await feedAnnotations(ctx.deps.db, [t]);
  return reply(renderTransferPanel(t, annotations.get(t.id)));
}

const pickMenu: ComponentHandler = {
  prefix: FEED_IDS.pick,
  async handle(ctx, interaction) {
    const values = 'values' in interaction.data ? interaction.data.values : [];
    return transferPanel(ctx, values[0]);
  },
};

const pickByIdButton: ComponentHandler = {
  prefix: FEED_IDS.pickById,
  async handle(ctx) {
    await actorMay(ctx, 'feed.view');
    return showModal(pickByIdModal());
  },
};

export const feedComponents: ComponentHandler[] = [
  refundButton,
  refundConfirmButton,
  dismissButton,
  freezeButton(false),
  freezeButton(true),
  noteButton,
  marketButton(FEED_IDS.orderRefund),
  marketButton(FEED_IDS.orderFulfil),
  marketButton(FEED_IDS.listingCancel),
  pickMenu,
  pickByIdButton,
];

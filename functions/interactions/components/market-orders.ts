import {
  disputeModal,
  MARKET_IDS,
  type OrderAction,
  type OrderEvent,
} from '../../../discord/views/market.ts';
import { AppError } from '../../../economy/errors.ts';
import { marketFor } from '../../../economy/market/market.ts';
import type { TransitionResult } from '../../../economy/market/orders.ts';
import { modalField } from '../options.ts';
import { interactionActor } from '../permissions.ts';
import { reply, showModal } from '../responses.ts';
import type { ComponentHandler, InteractionContext, ModalHandler } from '../types.ts';
import { announce, orderView } from './market-shop.ts';

const EVENTS: Record<Exclude<OrderAction, 'dispute'>, OrderEvent> = {
  deliver: 'delivered',
  received: 'completed',
  scancel: 'refunded',
  bcancel: 'refunded',
};

async function act(ctx: InteractionContext, action: Exclude<OrderAction, 'dispute'>, orderId: string) {
  const market = marketFor(ctx.deps);
  const me = await interactionActor(ctx);
  switch (action) {
    case 'deliver':
      return market.markDelivered(orderId, me);
    case 'received':
      return market.confirmReceived(orderId, me);
    case 'scancel':
      return market.cancelBySeller(orderId, me);
    case 'bcancel':
      return market.cancelByBuyer(orderId, me);
  }
}

async function answer(ctx: InteractionContext, result: TransitionResult, event: OrderEvent, done: string) {
  if (result.changed) await announce(ctx, result.order, event, result.restocked !== null);
  return reply({
    content: result.changed ? done : 'Nothing to do: the order was already in that state.',
    ...(await orderView(ctx, result.order)),
  });
}

const DONE: Record<Exclude<OrderAction, 'dispute'>, string> = {
  deliver:
    'Marked as delivered. The buyer has been told; the order completes when they confirm or the window ends.',
  received: 'Thanks! The order is complete and the seller has been paid.',
  scancel: 'Order cancelled; the buyer got their coins back.',
  bcancel: 'Order cancelled; your coins are back in your wallet.',
};

/** The buttons on an order (in the purchase answer and in the DMs): deliver, confirm, cancel, report. */
export const marketOrderButtons: ComponentHandler = {
  prefix: MARKET_IDS.order,
  async handle(ctx, _interaction, [action, orderId]) {
    if (!orderId) throw new AppError('order_not_found', 'That order does not exist.', 404);
    if (action === 'dispute') {
      return showModal(disputeModal(orderId));
    }
    if (!action || !(action in EVENTS))
      throw new AppError('invalid_transition', 'Unknown order action.', 400);
    const a = action as Exclude<OrderAction, 'dispute'>;
    return answer(ctx, await act(ctx, a, orderId), EVENTS[a], DONE[a]);
  },
};

/** The dispute form: the buyer's reason opens the dispute, which admins settle. */
export const marketDisputeModal: ModalHandler = {
  prefix: MARKET_IDS.dispute,
  async handle(ctx, interaction, [orderId]) {
    if (!orderId) throw new AppError('order_not_found', 'That order does not exist.', 404);
    const result = await marketFor(ctx.deps).dispute(
      orderId,
      await interactionActor(ctx),
      modalField(interaction, 'reason'),
    );
    return answer(
      ctx,
      result,
      'disputed',
      'Problem reported. The order is on hold until an admin settles it.',
    );
  },
};

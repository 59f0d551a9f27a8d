import { PAY_BUTTONS, renderPaySent } from '../../../discord/views/pay.ts';
import { AppError } from '../../../economy/errors.ts';
import { payUser } from '../../../economy/pay.ts';
import { dropPayIntent, loadPayIntent } from '../commands/pay.ts';
import { closePrompt, updateMessage } from '../responses.ts';
import type { ComponentHandler, InteractionContext } from '../types.ts';
import { settingsFor } from '../../../economy/settings.ts';

async function intentFor(ctx: InteractionContext, intentId: string | undefined) {
  const intent = intentId ? await loadPayIntent(ctx, intentId) : undefined;
  if (intent && intent.fromUserId !== ctx.user.id) {
    throw new AppError('forbidden', 'That payment is not yours to confirm.', 403);
  }
  return intent;
}

/** Confirm: pays once per /pay (ledger key `pay:<intent id>`); a second click shows the same outcome. */
export const payConfirmButton: ComponentHandler = {
  prefix: PAY_BUTTONS.confirm,
  async handle(ctx, _interaction, [intentId]) {
    const intent = await intentFor(ctx, intentId);
    if (!intent) return closePrompt('This payment request has expired; use /pay again.');
    const settings = await settingsFor(ctx.deps).get();
    try {
      const result = await payUser(ctx.deps.db, {
        key: `pay:${intentId}`,
        fromUserId: intent.fromUserId,
        toUserId: intent.toUserId,
        amount: intent.amount,
        ...(intent.note ? { note: intent.note } : {}),
        dailyLimit: settings.payDailyLimit,
        timeZone: settings.dailyTimeZone,
        now: ctx.deps.now(),
      });
      return updateMessage({
        embeds: [
          renderPaySent({
            toDiscordId: intent.toDiscordId,
            amount: intent.amount,
            balance: result.fromBalance,
            paidToday: result.paidToday,
            dailyLimit: settings.payDailyLimit,
          }),
        ],
        components: [],
      });
    } catch (err) {
      // A busy ledger or Redis is worth another click, so the prompt stays; any other refusal is final.
      if (err instanceof AppError && err.status !== 503)
        return closePrompt(`Payment not sent. ${err.message}`);
      throw err;
    }
  },
};

/** Cancel: forgets the intent and closes the prompt. */
export const payCancelButton: ComponentHandler = {
  prefix: PAY_BUTTONS.cancel,
  async handle(ctx, _interaction, [intentId]) {
    if (await intentFor(ctx, intentId)) await dropPayIntent(ctx, intentId!);
    return closePrompt('Payment cancelled; no coins moved.');
  },
};

import {
  ApplicationCommandOptionType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { z } from 'zod';
import { renderPayConfirm } from '../../../discord/views/pay.ts';
import { coins, formatNumber } from '../../../discord/views/format.ts';
import { AppError } from '../../../economy/errors.ts';
import { MAX_AMOUNT } from '../../../economy/ledger.ts';
import { PAY_NOTE_MAX } from '../../../economy/pay.ts';
import { upsertDiscordUser } from '../../../economy/users.ts';
import { discordProfile, integerOption, stringOption, userOption } from '../options.ts';
import { reply } from '../responses.ts';
import type { Command, InteractionContext } from '../types.ts';
import { settingsFor } from '../../../economy/settings.ts';

/** A confirm prompt stays usable as long as Discord keeps the interaction alive. */
const INTENT_TTL_S = 15 * 60;

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'pay',
  description: 'Send coins to another member',
  options: [
    {
      type: ApplicationCommandOptionType.User,
      name: 'user',
      description: 'Who gets the coins',
      required: true,
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'amount',
      description: 'How many coins',
      required: true,
      min_value: 1,
      max_value: MAX_AMOUNT,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'note',
      description: 'A note the recipient sees',
      required: false,
      max_length: PAY_NOTE_MAX,
    },
  ],
};

/** What the user asked to pay, kept between /pay and the Confirm click. */
const payIntent = z.object({
  fromUserId: z.string(),
  toUserId: z.string(),
  toDiscordId: z.string(),
  amount: z.number().int().positive(),
  note: z.string().nullable(),
});
export type PayIntent = z.infer<typeof payIntent>;

const intentKey = (ctx: InteractionContext, intentId: string) =>
  `${ctx.deps.cfg.REDIS_PREFIX}:pay:intent:${intentId}`;

/** The intent behind a Confirm/Cancel button, or undefined once it expired. */
export async function loadPayIntent(
  ctx: InteractionContext,
  intentId: string,
): Promise<PayIntent | undefined> {
  const raw = await ctx.deps.redis.get(intentKey(ctx, intentId)).catch(() => {
    throw new AppError('unavailable', 'Coinhub is busy right now; please try again in a moment.', 503);
  });
  if (!raw) return undefined;
  const parsed = payIntent.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : undefined;
}

export async function dropPayIntent(ctx: InteractionContext, intentId: string): Promise<void> {
  await ctx.deps.redis.del(intentKey(ctx, intentId)).catch(() => undefined);
}

/**
 * /pay user amount [note]: checks what can be checked now and asks for confirmation. Nothing moves until the
 * Confirm click, whose ledger key is `pay:<this interaction's id>`, so however often it is clicked it pays once.
 */
async function handlePay(ctx: InteractionContext, interaction: Parameters<Command['handle']>[1]) {
  const target = userOption(interaction, 'user');
  const amount = integerOption(interaction, 'amount');
  const note = stringOption(interaction, 'note')?.trim() || null;
  if (!target) throw new AppError('invalid_option', 'Choose who gets the coins.');
  if (target.bot) throw new AppError('pay_bot', 'Bots have no wallet; choose a member.');
  if (target.id === ctx.user.discordId) throw new AppError('pay_self', 'You cannot pay yourself.');
  if (amount === undefined || !Number.isSafeInteger(amount) || amount < 1 || amount > MAX_AMOUNT) {
    throw new AppError(
      'invalid_amount',
      `The amount must be a whole number of coins from 1 to ${formatNumber(MAX_AMOUNT)}.`,
    );
  }
  const { payDailyLimit } = await settingsFor(ctx.deps).get();
  if (payDailyLimit === 0) throw new AppError('pay_disabled', 'Payments with /pay are turned off here.');
  if (amount > payDailyLimit) {
    throw new AppError('pay_limit', `You can send at most ${coins(payDailyLimit)} a day.`);
  }
  if (note && note.length > PAY_NOTE_MAX) {
    throw new AppError('invalid_note', `The note can be at most ${PAY_NOTE_MAX} characters.`);
  }
  if (ctx.user.frozen) throw new AppError('frozen', 'Your wallet is frozen; you cannot send coins.', 403);
  const recipient = await upsertDiscordUser(ctx.deps.db, discordProfile(target));
  if (recipient.frozen)
    throw new AppError('frozen', 'That member’s wallet is frozen; they cannot receive coins.', 403);

  const intent: PayIntent = {
    fromUserId: ctx.user.id,
    toUserId: recipient.id,
    toDiscordId: target.id,
    amount,
    note,
  };
  await ctx.deps.redis
    .set(intentKey(ctx, interaction.id), JSON.stringify(intent), 'EX', INTENT_TTL_S)
    .catch(() => {
      throw new AppError('unavailable', 'Coinhub is busy right now; please try again in a moment.', 503);
    });
  return reply(renderPayConfirm({ intentId: interaction.id, toDiscordId: target.id, amount, note }));
}

export const payCommand: Command = { definition, handle: handlePay };

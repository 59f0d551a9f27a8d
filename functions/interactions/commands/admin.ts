import {
  ApplicationCommandOptionType,
  PermissionFlagsBits,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIChatInputApplicationCommandInteraction,
  type APIUser,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { coins, formatNumber, mention } from '../../../discord/views/format.ts';
import { adjustBalance, freezeUser, unfreezeUser } from '../../../economy/admin.ts';
import { AppError } from '../../../economy/errors.ts';
import { MAX_AMOUNT } from '../../../economy/ledger.ts';
import { upsertDiscordUser, type UserRow } from '../../../economy/users.ts';
import { marketFor } from '../../../economy/market/market.ts';
import { listDeliveries, refundDelivery, retryDelivery } from '../../../economy/minecraft/vouchers.ts';
import { queueDelivery } from '../../../jobs/minecraft-events.ts';
import { announce } from '../components/market-shop.ts';
import { discordProfile } from '../options.ts';
import { actorMay } from '../permissions.ts';
import { replyText } from '../responses.ts';
import type { Command, InteractionContext } from '../types.ts';

const userOption = (description: string) => ({
  type: ApplicationCommandOptionType.User as const,
  name: 'user',
  description,
  required: true,
});
const reasonOption = (required: boolean) => ({
  type: ApplicationCommandOptionType.String as const,
  name: 'reason',
  description: 'Why; it goes to the audit log',
  required,
  max_length: 500,
});

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'admin',
  description: 'Adjust balances and freeze wallets (Coinhub admins and moderators)',
  // Discord shows it to members who may time out others (moderators) and Administrators; a server can grant it to
  // other roles under Server Settings > Integrations. The economy still checks the Coinhub role on every use.
  default_member_permissions: PermissionFlagsBits.ModerateMembers.toString(),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'adjust',
      description: 'Mint coins to a wallet (positive amount) or burn coins from it (negative)',
      options: [
        userOption('Whose wallet'),
        {
          type: ApplicationCommandOptionType.Integer,
          name: 'amount',
          description: 'Coins to add (e.g. 500) or remove (e.g. -500)',
          required: true,
          min_value: -MAX_AMOUNT,
          max_value: MAX_AMOUNT,
        },
        reasonOption(true),
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'freeze',
      description: 'Freeze a wallet: its owner can neither spend nor receive coins',
      options: [userOption('Whose wallet'), reasonOption(true)],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'unfreeze',
      description: 'Unfreeze a wallet',
      options: [userOption('Whose wallet'), reasonOption(false)],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'deliveries',
      description: 'Minecraft deliveries not done yet; retry or refund one',
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: 'action',
          description: 'What to do (default: list)',
          required: false,
          choices: [
            { name: 'list', value: 'list' },
            { name: 'retry', value: 'retry' },
            { name: 'refund', value: 'refund' },
          ],
        },
        {
          type: ApplicationCommandOptionType.Integer,
          name: 'voucher',
          description: 'The voucher number (from the list) to retry or refund',
          required: false,
          min_value: 1,
        },
        reasonOption(false),
      ],
    },
  ],
};

interface Invocation {
  name: string;
  options: Map<string, APIApplicationCommandInteractionDataBasicOption>;
}

/** The invoked subcommand and its options by name. */
export function subcommand(interaction: APIChatInputApplicationCommandInteraction): Invocation | undefined {
  const sub = interaction.data.options?.[0];
  if (!sub || sub.type !== ApplicationCommandOptionType.Subcommand) return undefined;
  return { name: sub.name, options: new Map((sub.options ?? []).map((o) => [o.name, o])) };
}

const integerValue = (inv: Invocation, name: string) => {
  const o = inv.options.get(name);
  return o?.type === ApplicationCommandOptionType.Integer ? String(o.value) : undefined;
};

/** /admin deliveries [action] [voucher] [reason]: the open Minecraft deliveries, and retry or refund one. */
async function adminDeliveries(ctx: InteractionContext, inv: Invocation) {
  const action = stringValue(inv, 'action') ?? 'list';
  const now = ctx.deps.now();
  if (action === 'list') {
    const rows = await listDeliveries(ctx.deps.db, await actorMay(ctx, 'feed.view'));
    if (rows.length === 0) return replyText('No Minecraft deliveries are waiting.');
    return replyText(
      rows
        .map(
          (d) =>
            `#${d.id} · order #${d.orderId} · ${d.quantity} × ${d.itemName} for ${mention(d.buyerDiscordId)} (${d.playerName}) · **${d.state}**${d.attempts > 0 ? ` after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` : ''}${d.lastError ? ` · ${d.lastError}` : ''}`,
        )
        .join('\n')
        .slice(0, 2000),
    );
  }
  const voucherId = integerValue(inv, 'voucher');
  if (!voucherId) throw new AppError('voucher_required', 'Give the voucher number from /admin deliveries.');
  if (action === 'retry') {
    const actor = await actorMay(ctx, 'order.fulfil');
    const voucher = await retryDelivery(ctx.deps.db, actor, voucherId, now);
    if (!(await queueDelivery(ctx.deps.queues, voucher.id, `admin-${ctx.interaction.id}`)))
      ctx.log.warn({ voucherId }, 'delivery not queued; the sweeper will');
    return replyText(`Delivery #${voucher.id} is queued again. Audited.`);
  }
  const actor = await actorMay(ctx, 'tx.refund');
  const reason = stringValue(inv, 'reason') ?? '';
  const result = await refundDelivery(ctx.deps.db, marketFor(ctx.deps), actor, voucherId, reason, now);
  if (result.changed) await announce(ctx, result.order, 'refunded', result.restocked !== null);
  return replyText(`Order #${result.order.id} is refunded; the buyer got their coins back. Audited.`);
}

const stringValue = (inv: Invocation, name: string) => {
  const o = inv.options.get(name);
  return o?.type === ApplicationCommandOptionType.String ? o.value : undefined;
};

/** The Coinhub user behind a user option, created on first sight like any other member. */
export async function targetUser(
  ctx: InteractionContext,
  interaction: APIChatInputApplicationCommandInteraction,
  inv: Invocation,
): Promise<UserRow> {
  const o = inv.options.get('user');
  const user: APIUser | undefined =
    o?.type === ApplicationCommandOptionType.User ? interaction.data.resolved?.users?.[o.value] : undefined;
  if (!user) throw new AppError('user_required', 'Pick a user.');
  if (user.bot) throw new AppError('bot_user', 'Bots have no Coinhub wallet.');
  return upsertDiscordUser(ctx.deps.db, discordProfile(user));
}

/** /admin adjust | freeze | unfreeze: each one transaction with one audit row; adjust is idempotent by interaction. */
export const adminCommand: Command = {
  definition,
  async handle(ctx, interaction) {
    const inv = subcommand(interaction);
    switch (inv?.name) {
      case 'adjust': {
        const actor = await actorMay(ctx, 'balance.adjust');
        const target = await targetUser(ctx, interaction, inv);
        const amountOption = inv.options.get('amount');
        const amount =
          amountOption?.type === ApplicationCommandOptionType.Integer ? Number(amountOption.value) : 0;
        const result = await adjustBalance(ctx.deps, actor, {
          userId: target.id,
          amount,
          reason: stringValue(inv, 'reason') ?? '',
          key: interaction.id,
        });
        const verb = amount > 0 ? `Minted ${coins(amount)} to` : `Burned ${coins(-amount)} from`;
        return replyText(
          `${verb} ${mention(target.discordId)}: balance ${formatNumber(result.balanceBefore)} → ${formatNumber(result.balanceAfter)}. Audited.`,
        );
      }
      case 'freeze':
      case 'unfreeze': {
        const actor = await actorMay(ctx, 'user.freeze');
        const target = await targetUser(ctx, interaction, inv);
        const input = { userId: target.id, reason: stringValue(inv, 'reason') ?? '' };
        const freezing = inv.name === 'freeze';
        const result = freezing
          ? await freezeUser(ctx.deps, actor, input)
          : await unfreezeUser(ctx.deps, actor, input);
        const who = mention(target.discordId);
        if (!result.changed)
          return replyText(`${who} is already ${freezing ? 'frozen' : 'not frozen'}; nothing changed.`);
        return replyText(
          freezing
            ? `Froze ${who}: they can neither spend nor receive coins until unfrozen. Audited.`
            : `Unfroze ${who}: they can spend and receive coins again. Audited.`,
        );
      }
      case 'deliveries':
        return adminDeliveries(ctx, inv);
      default:
        throw new AppError(
          'unknown_subcommand',
          'Use /admin adjust, /admin freeze, /admin unfreeze or /admin deliveries.',
        );
    }
  },
};

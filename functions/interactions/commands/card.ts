import { CDN } from '@discordjs/rest';
import {
  ApplicationCommandOptionType,
  type APIUser,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { renderPlayerCard } from '../../../discord/views/card.ts';
import { mention } from '../../../discord/views/format.ts';
import { findUserByDiscordId, type UserRow } from '../../../economy/users.ts';
import { walletSummary } from '../../../economy/wallet.ts';
import { userOption } from '../options.ts';
import { actorMay, ADMINS_ONLY } from '../permissions.ts';
import { reply, replyText } from '../responses.ts';
import type { Command, InteractionContext } from '../types.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'card',
  description: 'Your balance, streak and latest transactions',
  options: [
    {
      type: ApplicationCommandOptionType.User,
      name: 'user',
      description: 'Whose card to show (admins only)',
      required: false,
    },
  ],
};

const cdn = new CDN();

/** My Card for `owner` (the invoking user unless an admin asked for someone else's). */
async function renderCardOf(ctx: InteractionContext, owner: UserRow) {
  const summary = await walletSummary(ctx.deps.db, owner.id, 3);
  return reply({
    embeds: [
      renderPlayerCard({
        discordId: owner.discordId,
        name: owner.globalName ?? owner.username,
        avatarUrl: owner.avatar ? cdn.avatar(owner.discordId, owner.avatar, { size: 128 }) : null,
        balance: summary.balance,
        held: summary.held,
        streak: summary.streak,
        minecraftName: owner.minecraftName,
        recent: summary.recent.map((t) => ({
          sign: t.sign,
          amount: t.amount,
          reason: t.reason,
          memo: t.memo,
          counterparty:
            t.counterparty.kind === 'user'
              ? { kind: 'user', discordId: t.counterparty.discordId, name: t.counterparty.name }
              : { kind: 'system', code: t.counterparty.code },
          at: t.at,
        })),
      }),
    ],
  });
}

/** The invoker's card, or (admins only) another member's. Shared by /card and the hub's My Card button. */
export async function showCard(ctx: InteractionContext, target?: APIUser) {
  if (!target || target.id === ctx.user.discordId) return renderCardOf(ctx, ctx.user);
  await actorMay(ctx, 'feed.view', ADMINS_ONLY);
  const owner = await findUserByDiscordId(ctx.deps.db, target.id);
  if (!owner)
    return replyText(`${mention(target.id)} has not used Coinhub yet, so there is no card to show.`);
  return renderCardOf(ctx, owner);
}

export const cardCommand: Command = {
  definition,
  handle: (ctx, interaction) => showCard(ctx, userOption(interaction, 'user')),
};

import {
  ApplicationCommandOptionType,
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { renderAuditList } from '../../../discord/views/audit.ts';
import { recentAuditForUser } from '../../../economy/audit.ts';
import { AppError } from '../../../economy/errors.ts';
import { discordIdsOf } from '../../../economy/market/listings.ts';
import { findUserByDiscordId } from '../../../economy/users.ts';
import { integerOption, userOption } from '../options.ts';
import { actorMay } from '../permissions.ts';
import { reply } from '../responses.ts';
import type { Command } from '../types.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'audit',
  description: "A player's recent audit entries (Coinhub admins and moderators)",
  // Discord shows it to members who may time out others (moderators) and Administrators; a server can grant it to
  // other roles under Server Settings > Integrations. The economy still checks the Coinhub role on every use.
  default_member_permissions: PermissionFlagsBits.ModerateMembers.toString(),
  options: [
    { type: ApplicationCommandOptionType.User, name: 'user', description: 'Whose entries', required: true },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'limit',
      description: 'How many entries (default 10)',
      min_value: 1,
      max_value: 25,
    },
  ],
};

/** /audit user: — what admins did to a player and what the player did as an admin, newest first. */
export const auditCommand: Command = {
  definition,
  async handle(ctx, interaction) {
    await actorMay(ctx, 'audit.view');
    const target = userOption(interaction, 'user');
    if (!target) throw new AppError('user_required', 'Pick a user.');
    const limit = Math.min(25, Math.max(1, integerOption(interaction, 'limit') ?? 10));
    const user = await findUserByDiscordId(ctx.deps.db, target.id);
    const entries = user ? await recentAuditForUser(ctx.deps.db, user.id, limit) : [];
    const discordOf = await discordIdsOf(
      ctx.deps.db,
      entries.map((e) => e.actorId),
    );
    return reply({
      embeds: [
        renderAuditList(
          { discordId: target.id },
          entries.map((entry) => ({
            entry,
            actorDiscordId: entry.actorId ? (discordOf.get(entry.actorId) ?? null) : null,
          })),
        ),
      ],
    });
  },
};

import {
  ApplicationCommandOptionType,
  type APIApplicationCommandSubcommandOption,
  type APIChatInputApplicationCommandInteraction,
  type APIInteractionResponse,
} from 'discord-api-types/v10';
import { COLOR } from '../../../discord/views/format.ts';
import { changeRoleMap } from '../../../economy/admin.ts';
import { AppError } from '../../../economy/errors.ts';
import { readRoleMap, ROLES, type Role, type RoleMap } from '../../../economy/rbac.ts';
import { actorMay, interactionActor } from '../permissions.ts';
import { reply } from '../responses.ts';
import type { InteractionContext } from '../types.ts';
import { subcommand } from './admin.ts';

/** `/setup roles [role] [discord_role] [remove]`: shows or changes the guild's role mapping (docs/rbac.md). */
export const setupRolesSubcommand: APIApplicationCommandSubcommandOption = {
  type: ApplicationCommandOptionType.Subcommand,
  name: 'roles',
  description: 'Show or change which Discord roles make Coinhub owners, admins, moderators and viewers',
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'role',
      description: 'The Coinhub role',
      choices: ROLES.map((r) => ({ name: r, value: r })),
    },
    {
      type: ApplicationCommandOptionType.Role,
      name: 'discord_role',
      description: 'The Discord role that grants it',
    },
    {
      type: ApplicationCommandOptionType.Boolean,
      name: 'remove',
      description: 'Remove this mapping instead',
    },
  ],
};

function renderRoleMap(roleMap: RoleMap, note: string) {
  const lines = ROLES.map((role) => {
    const ids = roleMap[role] ?? [];
    const granted = ids.length > 0 ? ids.map((id) => `<@&${id}>`).join(', ') : '—';
    return `**${role}**: ${granted}${role === 'owner' ? ' (and everyone with the Administrator permission)' : ''}`;
  });
  return reply({
    embeds: [{ title: 'Coinhub roles', color: COLOR, description: `${note}\n\n${lines.join('\n')}` }],
  });
}

export async function handleSetupRoles(
  ctx: InteractionContext,
  interaction: APIChatInputApplicationCommandInteraction,
): Promise<APIInteractionResponse> {
  const guildId = interaction.guild_id;
  if (!guildId) throw new AppError('guild_only', 'Run /setup roles inside your server.');
  const options = subcommand(interaction)!.options;
  const roleOption = options.get('role');
  const discordRole = options.get('discord_role');
  const remove = options.get('remove');
  if (!roleOption && !discordRole) {
    await actorMay(ctx, 'settings.change');
    return renderRoleMap(await readRoleMap(ctx.deps.db, guildId), 'The current mapping.');
  }
  if (
    roleOption?.type !== ApplicationCommandOptionType.String ||
    discordRole?.type !== ApplicationCommandOptionType.Role
  ) {
    throw new AppError('role_and_discord_role', 'Give both a Coinhub role and a Discord role.');
  }
  const removing = remove?.type === ApplicationCommandOptionType.Boolean && remove.value;
  const result = await changeRoleMap(ctx.deps, await interactionActor(ctx), {
    guildId,
    role: roleOption.value as Role,
    discordRoleId: discordRole.value,
    remove: removing,
  });
  const what = removing
    ? `<@&${discordRole.value}> no longer grants **${roleOption.value}**.`
    : `<@&${discordRole.value}> now grants **${roleOption.value}**.`;
  return renderRoleMap(
    result.roleMap,
    result.changed ? `${what} Audited.` : 'Nothing changed: that was already so.',
  );
}

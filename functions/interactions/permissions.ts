import { PermissionFlagsBits, type APIInteraction } from 'discord-api-types/v10';
import { AppError } from '../../economy/errors.ts';
import {
  can,
  parseRoleMap,
  requirePermission,
  resolveRole,
  type Action,
  type Role,
} from '../../economy/rbac.ts';
import type { InteractionContext } from './types.ts';

/** True when the member holds Discord's Administrator permission in this guild (`member.permissions`). */
export function hasDiscordAdministrator(interaction: APIInteraction): boolean {
  const permissions = interaction.member?.permissions;
  if (!permissions) return false;
  return (BigInt(permissions) & PermissionFlagsBits.Administrator) === PermissionFlagsBits.Administrator;
}

/**
 * The invoking member's Coinhub role (docs/rbac.md): owner for Discord's Administrator permission, otherwise
 * the strongest role the guild's role map grants one of their Discord roles; null outside a guild.
 */
export async function memberRole(
  ctx: Pick<InteractionContext, 'interaction' | 'deps'>,
): Promise<Role | null> {
  const { member, guild_id: guildId } = ctx.interaction;
  if (!member || !guildId) return null;
  if (hasDiscordAdministrator(ctx.interaction)) return 'owner';
  const settings = await ctx.deps.db
    .selectFrom('guild_settings')
    .select('role_map')
    .where('guild_id', '=', guildId)
    .executeTakeFirst();
  return resolveRole(
    { permissions: member.permissions, roleIds: member.roles },
    parseRoleMap(settings?.role_map),
  );
}

/** The member's role if it may take `action`; otherwise the ephemeral refusal (a 403 AppError). */
export async function requireRole(
  ctx: Pick<InteractionContext, 'interaction' | 'deps'>,
  action: Action,
): Promise<Role> {
  const role = await memberRole(ctx);
  requirePermission(role, action);
  return role;
}

/** Whether the invoking member is a Coinhub admin: a role that may change settings (owner or admin). */
export async function isAdmin(ctx: Pick<InteractionContext, 'interaction' | 'deps'>): Promise<boolean> {
  return can(await memberRole(ctx), 'settings.change');
}

/** Throws the ephemeral refusal non-admins get. */
export async function requireAdmin(ctx: Pick<InteractionContext, 'interaction' | 'deps'>): Promise<void> {
  if (!(await isAdmin(ctx))) throw new AppError('forbidden', 'Only admins can do that.', 403);
}

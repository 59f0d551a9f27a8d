import { PermissionFlagsBits, type APIInteraction } from 'discord-api-types/v10';
import { AppError } from '../../economy/errors.ts';
import type { InteractionContext } from './types.ts';

/** True when the member holds Discord's Administrator permission in this guild (`member.permissions`). */
export function hasDiscordAdministrator(interaction: APIInteraction): boolean {
  const permissions = interaction.member?.permissions;
  if (!permissions) return false;
  return (BigInt(permissions) & PermissionFlagsBits.Administrator) === PermissionFlagsBits.Administrator;
}

/** Whether the invoking member is a Coinhub admin. Async so role mappings from guild settings can join in. */
export async function isAdmin(ctx: Pick<InteractionContext, 'interaction'>): Promise<boolean> {
  return hasDiscordAdministrator(ctx.interaction);
}

/** Throws the ephemeral refusal non-admins get. */
export async function requireAdmin(ctx: Pick<InteractionContext, 'interaction'>): Promise<void> {
  if (!(await isAdmin(ctx))) throw new AppError('forbidden', 'Only admins can do that.', 403);
}

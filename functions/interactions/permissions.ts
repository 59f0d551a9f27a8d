import { AppError } from '../../economy/errors.ts';
import { can, memberRole, requirePermission, type Action, type MemberActor } from '../../economy/rbac.ts';
import type { InteractionContext } from './types.ts';

type Ctx = Pick<InteractionContext, 'interaction' | 'deps' | 'user'>;

const actors = new WeakMap<Ctx, Promise<MemberActor>>();

/**
 * The invoking member as the economy's Actor: their Coinhub user and role, resolved once per interaction by
 * `memberRole` (economy/rbac.ts). Economy functions check the actor themselves.
 */
export function interactionActor(ctx: Ctx): Promise<MemberActor> {
  let actor = actors.get(ctx);
  if (!actor) {
    const { member, guild_id: guildId, id } = ctx.interaction;
    actor = (async (): Promise<MemberActor> => ({
      kind: 'member',
      userId: ctx.user.id,
      role: member
        ? await memberRole(ctx.deps.db, ctx.deps.cfg.GUILD_ID, {
            guildId,
            permissions: member.permissions,
            roleIds: member.roles,
          })
        : null,
      source: 'discord',
      requestId: id,
    }))();
    actors.set(ctx, actor);
  }
  return actor;
}

/**
 * The acting member, refused (an ephemeral 403) when they may not take `action`: used before a prompt, a form
 * or a read opens, so nobody is shown a form they cannot submit. The change itself is checked by the economy.
 */
export async function actorMay(ctx: Ctx, action: Action, refusal?: string): Promise<MemberActor> {
  const actor = await interactionActor(ctx);
  if (refusal !== undefined && !can(actor, action)) throw new AppError('forbidden', refusal, 403);
  requirePermission(actor, action);
  return actor;
}

/** What members who may not take an admin-only command are told. */
export const ADMINS_ONLY = 'Only admins can do that.';

import type { Context } from 'hono';
import type { AdminActor } from '../../economy/admin.ts';
import type { AdminActor as MarketAdmin } from '../../economy/market/types.ts';
import type { Role } from '../../economy/rbac.ts';
import type { AppEnv } from '../context.ts';

/** Who calls the panel API: a signed-in panel user or the owner of an API token. */
export interface ApiActor {
  /** The Coinhub user id of the Discord account behind the session or token. */
  userId: string;
  discordId: string;
  /** The Coinhub role, as resolved from Discord for interactions. */
  role: Role;
  via: 'session' | 'token';
}

/** The caller as the economy's admin functions take it; the economy checks the role. */
export function adminActor(c: Context<AppEnv>): AdminActor {
  const actor = c.get('actor');
  return { userId: actor.userId, role: actor.role, source: 'panel', requestId: c.get('requestId') };
}

/** The caller as the market takes an admin. */
export function marketAdmin(c: Context<AppEnv>): MarketAdmin {
  const actor = c.get('actor');
  return {
    kind: 'admin',
    userId: actor.userId,
    role: actor.role,
    source: 'panel',
    requestId: c.get('requestId'),
  };
}

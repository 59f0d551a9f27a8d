import { z } from 'zod';
import { AppError } from './errors.ts';

/** Panel and Discord roles, strongest first. */
export const ROLES = ['owner', 'admin', 'moderator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Every action an admin surface may take, with the roles allowed to take it. This table is the permission
 * matrix; docs/rbac.md renders the same table and a test checks each cell.
 */
export const PERMISSIONS = {
  /** Read the transaction feed and any player's card and wallet. */
  'feed.view': ['owner', 'admin', 'moderator', 'viewer'],
  /** Read the audit log (`/audit`, the panel's audit page). */
  'audit.view': ['owner', 'admin', 'moderator'],
  /** Refund a transaction: void a hold or post a compensating transfer. */
  'tx.refund': ['owner', 'admin', 'moderator'],
  /** Attach a note to a transaction on the feed. */
  'tx.note': ['owner', 'admin', 'moderator'],
  /** Complete an order for the seller (post the escrow). */
  'order.fulfil': ['owner', 'admin', 'moderator'],
  /** Cancel an order (refunding the buyer) or a listing. */
  'order.cancel': ['owner', 'admin', 'moderator'],
  /** Freeze or unfreeze a player's wallet. */
  'user.freeze': ['owner', 'admin', 'moderator'],
  /** Mint coins to or burn coins from a wallet. */
  'balance.adjust': ['owner', 'admin'],
  /** Catalog items, official listings and price-guard overrides. */
  'market.manage': ['owner', 'admin'],
  /** Guild settings: channels, hub message, economy settings. */
  'settings.change': ['owner', 'admin'],
  /** Which Discord roles map to which Coinhub role. Owner only, so nobody can promote themselves. */
  'roles.change': ['owner'],
  /** Create, list and revoke the panel's API tokens. Owner only: a token acts with its creator's role. */
  'tokens.manage': ['owner'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof PERMISSIONS;
export const ACTIONS = Object.keys(PERMISSIONS) as Action[];

/** Whether `role` may take `action`. No role (a plain member) may take none. */
export function can(role: Role | null, action: Action): boolean {
  return role !== null && (PERMISSIONS[action] as readonly Role[]).includes(role);
}

/** Throws a 403 AppError naming what is missing; edges turn it into an ephemeral refusal. */
export function requirePermission(role: Role | null, action: Action): asserts role is Role {
  if (!can(role, action)) {
    throw new AppError('forbidden', `You need a Coinhub role that may ${describeAction(action)}.`, 403);
  }
}

const DESCRIPTIONS: Record<Action, string> = {
  'feed.view': 'see the transaction feed',
  'audit.view': 'read the audit log',
  'tx.refund': 'refund transactions',
  'tx.note': 'add notes to transactions',
  'order.fulfil': 'fulfil orders',
  'order.cancel': 'cancel orders and listings',
  'user.freeze': 'freeze and unfreeze wallets',
  'balance.adjust': 'adjust balances',
  'market.manage': 'manage the market',
  'settings.change': 'change settings',
  'roles.change': 'change the role mapping',
  'tokens.manage': 'manage API tokens',
};

export const describeAction = (action: Action): string => DESCRIPTIONS[action];

/** Discord's ADMINISTRATOR permission bit. */
const ADMINISTRATOR = 1n << 3n;

/** guild_settings.role_map: Coinhub role → the Discord role ids that grant it. */
export const roleMapSchema = z
  .object({
    owner: z.array(z.string().regex(/^\d{15,21}$/)).max(25),
    admin: z.array(z.string().regex(/^\d{15,21}$/)).max(25),
    moderator: z.array(z.string().regex(/^\d{15,21}$/)).max(25),
    viewer: z.array(z.string().regex(/^\d{15,21}$/)).max(25),
  })
  .partial()
  .strict();
export type RoleMap = z.infer<typeof roleMapSchema>;

/** Reads a stored role map; anything malformed counts as "no mapping" rather than granting a role. */
export function parseRoleMap(raw: unknown): RoleMap {
  const parsed = roleMapSchema.safeParse(raw ?? {});
  return parsed.success ? parsed.data : {};
}

export interface MemberGrants {
  /** The member's resolved permissions as Discord sends them: a decimal bitfield string. */
  permissions?: string | null;
  roleIds: readonly string[];
}

/**
 * The strongest Coinhub role a guild member holds: owner for Discord's Administrator permission, otherwise
 * the strongest role whose mapped Discord roles the member has, otherwise null.
 */
export function resolveRole(member: MemberGrants, roleMap: RoleMap): Role | null {
  if (member.permissions && /^\d+$/.test(member.permissions)) {
    if ((BigInt(member.permissions) & ADMINISTRATOR) === ADMINISTRATOR) return 'owner';
  }
  const held = new Set(member.roleIds);
  return ROLES.find((role) => (roleMap[role] ?? []).some((id) => held.has(id))) ?? null;
}

import { z } from 'zod';
import type { Db, Tx } from '../db/client.ts';
import type { AuditSource } from './audit.ts';
import { AppError } from './errors.ts';

/** Panel and Discord roles, strongest first. */
export const ROLES = ['owner', 'admin', 'moderator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who asks the economy for a change: a member of the community (a player, or staff when `role` is set;
 * `role: null` is a plain player) or the system (a job, a sweeper). Built by each edge from what it trusts: the
 * verified interaction, the panel session, the job. Economy functions check it themselves (`requirePermission`).
 */
export type Actor =
  | {
      kind: 'member';
      /** The member's Coinhub user id. */
      userId: string;
      role: Role | null;
      source: AuditSource;
      /** The Discord interaction id or the panel's request id, to trace audit rows to their cause. */
      requestId: string;
    }
  | { kind: 'system'; source: AuditSource; requestId: string };

export type MemberActor = Extract<Actor, { kind: 'member' }>;

/** The system acting for a job or sweeper; `requestId` names the job. */
export const systemActor = (requestId: string): Actor => ({ kind: 'system', source: 'system', requestId });

/** Who a permission is granted to: a Coinhub role, a plain player (a member with no role), or the system. */
export const GRANTEES = [...ROLES, 'player', 'system'] as const;
export type Grantee = (typeof GRANTEES)[number];

const MEMBERS = ['owner', 'admin', 'moderator', 'viewer', 'player'] as const;

/**
 * Every action the economy takes for someone, with who may take it. This table is the permission matrix;
 * docs/rbac.md renders the same table and tests check each cell, and each economy function against it.
 */
export const PERMISSIONS = {
  /** Read the transaction feed and any player's card and wallet. */
  'feed.view': ['owner', 'admin', 'moderator', 'viewer'],
  /** Read the audit log (`/audit`, the panel's audit page). */
  'audit.view': ['owner', 'admin', 'moderator'],
  /** Refund a transaction or an order: void a hold or post a compensating transfer. */
  'tx.refund': ['owner', 'admin', 'moderator'],
  /** Attach a note to a transaction on the feed. */
  'tx.note': ['owner', 'admin', 'moderator'],
  /** Complete an order for the seller (post the escrow). */
  'order.fulfil': ['owner', 'admin', 'moderator'],
  /** Take down any player's listing. */
  'order.cancel': ['owner', 'admin', 'moderator'],
  /** Freeze or unfreeze a player's wallet. */
  'user.freeze': ['owner', 'admin', 'moderator'],
  /**
   * Mint coins to or burn coins from a wallet; also needed to refund a transaction or order one is a party to
   * and to reverse a mint or burn.
   */
  'balance.adjust': ['owner', 'admin'],
  /** Catalog items, official listings, other players' listings and price-guard overrides. */
  'market.manage': ['owner', 'admin'],
  /** Guild settings: channels, hub message, economy settings. */
  'settings.change': ['owner', 'admin'],
  /** Which Discord roles map to which Coinhub role. Owner only, so nobody can promote themselves. */
  'roles.change': ['owner'],
  /** Create, list and revoke the panel's API tokens. Owner only: a token acts with its creator's role. */
  'tokens.manage': ['owner'],
  /** Buy, list as oneself, and act as the buyer or seller of one's own orders and listings. */
  'market.trade': MEMBERS,
  /** The market's timers: expire escrow, complete after the confirm window, deliver and refuse bought roles. */
  'order.timers': ['system'],
} as const satisfies Record<string, readonly Grantee[]>;

export type Action = keyof typeof PERMISSIONS;
export const ACTIONS = Object.keys(PERMISSIONS) as Action[];

/** The column of the matrix an actor is read in. */
export const granteeOf = (actor: Actor): Grantee =>
  actor.kind === 'system' ? 'system' : (actor.role ?? 'player');

/** Whether `who` may take `action`: an actor, a grantee, or a member's role (null: a plain player). */
export function can(who: Actor | Grantee | null, action: Action): boolean {
  const grantee = who === null ? 'player' : typeof who === 'string' ? who : granteeOf(who);
  return (PERMISSIONS[action] as readonly Grantee[]).includes(grantee);
}

/** Throws a 403 AppError naming what is missing; edges turn it into an ephemeral refusal or a JSON 403. */
export function requirePermission(actor: Actor, action: Action): void {
  if (!can(actor, action)) {
    throw new AppError(
      'forbidden',
      actor.kind === 'system'
        ? `The system may not ${describeAction(action)}.`
        : `You need a Coinhub role that may ${describeAction(action)}.`,
      403,
    );
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
  'market.trade': 'buy and sell',
  'order.timers': 'run the market timers',
};

export const describeAction = (action: Action): string => DESCRIPTIONS[action];

/** Discord's ADMINISTRATOR permission bit. */
const ADMINISTRATOR = 1n << 3n;

const hasAdministrator = (permissions: string | null | undefined): boolean =>
  !!permissions && /^\d+$/.test(permissions) && (BigInt(permissions) & ADMINISTRATOR) === ADMINISTRATOR;

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
  if (hasAdministrator(member.permissions)) return 'owner';
  const held = new Set(member.roleIds);
  return ROLES.find((role) => (roleMap[role] ?? []).some((id) => held.has(id))) ?? null;
}

/** The guild's stored role map (nothing mapped when the guild has no settings yet). */
export async function readRoleMap(db: Db | Tx, guildId: string): Promise<RoleMap> {
  const row = await db
    .selectFrom('guild_settings')
    .select('role_map')
    .where('guild_id', '=', guildId)
    .executeTakeFirst();
  return parseRoleMap(row?.role_map);
}

/**
 * The Coinhub role of a member of `guildId`, the one place roles are resolved (interactions and panel
 * sessions): null outside the installation's guild `homeGuildId` (GUILD_ID; any guild when it is unset, which
 * only tests allow) and outside a guild; otherwise `resolveRole` with the guild's role map.
 */
export async function memberRole(
  db: Db | Tx,
  homeGuildId: string | undefined,
  member: MemberGrants & { guildId: string | null | undefined },
): Promise<Role | null> {
  if (!member.guildId || (homeGuildId !== undefined && member.guildId !== homeGuildId)) return null;
  if (hasAdministrator(member.permissions)) return 'owner';
  return resolveRole(member, await readRoleMap(db, member.guildId));
}

import { createHash, randomBytes } from 'node:crypto';
import { DiscordAPIError, type REST } from '@discordjs/rest';
import {
  RESTJSONErrorCodes,
  Routes,
  type APIGuild,
  type APIGuildMember,
  type APIUser,
} from 'discord-api-types/v10';
import type { Config } from '../../config/env.ts';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../economy/errors.ts';
import { memberRole, type Role } from '../../economy/rbac.ts';

/** A random URL-safe secret: `state`, PKCE verifiers, session ids, CSRF tokens. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** PKCE's S256 challenge of a verifier (RFC 7636 §4.2). */
export const pkceChallenge = (verifier: string): string =>
  createHash('sha256').update(verifier).digest('base64url');

/** The panel's OAuth2 redirect; it must be registered, character for character, in the Developer Portal. */
export const redirectUri = (cfg: Pick<Config, 'PANEL_BASE_URL'>): string =>
  new URL('/auth/discord/callback', cfg.PANEL_BASE_URL).toString();

/** The settings panel login needs; missing ones are named in the 503 the login answers with. */
const LOGIN_SETTINGS = [
  'DISCORD_CLIENT_ID',
  'DISCORD_CLIENT_SECRET',
  'DISCORD_TOKEN',
  'GUILD_ID',
  'SESSION_SECRET',
] as const;

export type LoginConfig = Config & { [K in (typeof LOGIN_SETTINGS)[number]]: string };

/** Throws a 503 naming the unset settings when the panel login cannot work on this installation. */
export function requireLoginConfig(cfg: Config): LoginConfig {
  const missing = LOGIN_SETTINGS.filter((name) => !cfg[name]);
  if (missing.length > 0)
    throw new AppError('login_not_configured', `Panel login is not set up: set ${missing.join(', ')}.`, 503);
  return cfg as LoginConfig;
}

/** Discord's authorize page for the code flow with scope `identify` and PKCE (S256). */
export function authorizeUrl(cfg: LoginConfig, state: string, verifier: string): string {
  const url = new URL('/oauth2/authorize', cfg.DISCORD_OAUTH_BASE);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.DISCORD_CLIENT_ID,
    scope: 'identify',
    state,
    redirect_uri: redirectUri(cfg),
    code_challenge: pkceChallenge(verifier),
    code_challenge_method: 'S256',
    prompt: 'none',
  }).toString();
  return url.toString();
}

const refused = () =>
  new AppError('login_refused', 'Discord did not confirm this login. Start again from the login page.', 401);
const unavailable = () =>
  new AppError('discord_unavailable', 'Discord did not answer; try again in a moment.', 503);

/** `fetch` with a timeout whose network failures are a 503 "Discord did not answer". */
async function callDiscord(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw unavailable();
  }
}

/**
 * Exchanges an authorization code for the user it was issued to: the token endpoint (client id and secret,
 * the PKCE verifier, the same redirect), then `users/@me` with the access token. Any refusal is one 401.
 */
export async function exchangeCode(cfg: LoginConfig, code: string, verifier: string): Promise<APIUser> {
  const api = `${cfg.DISCORD_API_BASE.replace(/\/$/, '')}/v10`;
  const basic = Buffer.from(`${cfg.DISCORD_CLIENT_ID}:${cfg.DISCORD_CLIENT_SECRET}`).toString('base64');
  const tokenRes = await callDiscord(`${api}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(cfg),
      code_verifier: verifier,
    }),
  });
  if (!tokenRes.ok) throw refused();
  const token = (await tokenRes.json()) as { access_token?: unknown; token_type?: unknown };
  if (typeof token.access_token !== 'string') throw refused();
  const userRes = await callDiscord(`${api}/users/@me`, {
    headers: { authorization: `Bearer ${token.access_token}` },
  });
  if (!userRes.ok) throw refused();
  const user = (await userRes.json()) as APIUser;
  if (typeof user.id !== 'string' || !/^\d{15,21}$/.test(user.id)) throw refused();
  return user;
}

/** Resolves a guild member's Coinhub role from Discord with the bot token. */
export interface MemberDirectory {
  /** The member's role now: null for a non-member or a member without a Coinhub role. */
  roleOf(discordUserId: string): Promise<Role | null>;
}

/** Every permission bit the member gets from @everyone and their roles. */
function memberPermissions(guild: APIGuild, member: APIGuildMember): bigint {
  const held = new Set([guild.id, ...member.roles]);
  return guild.roles.filter((r) => held.has(r.id)).reduce((bits, r) => bits | BigInt(r.permissions), 0n);
}

/**
 * Asks Discord, with the bot token, for the member of GUILD_ID and the guild (its roles and owner), and maps
 * them through `memberRole`, the function interactions use: the guild owner and
 * Administrator are owners.
 */
export function discordMembers(deps: { cfg: Config; db: Db; rest: REST }): MemberDirectory {
  return {
    async roleOf(discordUserId) {
      const { GUILD_ID: guildId } = requireLoginConfig(deps.cfg);
      let member: APIGuildMember;
      let guild: APIGuild;
      try {
        [member, guild] = (await Promise.all([
          deps.rest.get(Routes.guildMember(guildId, discordUserId)),
          deps.rest.get(Routes.guild(guildId)),
        ])) as [APIGuildMember, APIGuild];
      } catch (err) {
        if (err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.UnknownMember) return null;
        if (err instanceof DiscordAPIError && err.status < 500)
          throw new AppError(
            'guild_unreadable',
            'The bot cannot read this server’s members: check that it is in GUILD_ID and that DISCORD_TOKEN is right.',
            503,
          );
        throw unavailable();
      }
      if (guild.owner_id === discordUserId) return 'owner';
      return memberRole(deps.db, guildId, {
        guildId,
        permissions: String(memberPermissions(guild, member)),
        roleIds: member.roles,
      });
    },
  };
}

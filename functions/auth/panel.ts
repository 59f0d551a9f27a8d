import { BlockList, isIPv4 } from 'node:net';
import type { Context } from 'hono';
import type { Redis } from 'ioredis';
import { createDiscordRest } from '../../discord/rest.ts';
import type { Role } from '../../economy/rbac.ts';
import type { AppDeps, AppEnv } from '../context.ts';
import { createRateLimiter, type RateLimiter } from '../interactions/rate-limit.ts';
import { discordMembers, type MemberDirectory } from './discord.ts';
import { loginStates, sessionStore } from './sessions.ts';
import { apiTokens } from './tokens.ts';

/** A member's role is re-read from Discord when the one we hold is this old, so a demotion bites within a minute. */
export const ROLE_RECHECK_MS = 60_000;

/** Coinhub roles of Discord members, re-read from Discord at most every 60 s (by the process clock). */
function roleCache(deps: { redis: Redis; prefix: string; now: () => number; members: MemberDirectory }) {
  const key = (discordId: string) => `${deps.prefix}:panel-role:${discordId}`;
  const remember = async (discordId: string, role: Role | null) => {
    await deps.redis.set(key(discordId), JSON.stringify({ role, at: deps.now() }), 'PX', ROLE_RECHECK_MS);
  };
  return {
    remember,
    async current(discordId: string): Promise<Role | null> {
      const raw = await deps.redis.get(key(discordId));
      if (raw) {
        const held = JSON.parse(raw) as { role: Role | null; at: number };
        const age = deps.now() - held.at;
        if (age >= 0 && age < ROLE_RECHECK_MS) return held.role;
      }
      const role = await deps.members.roleOf(discordId);
      await remember(discordId, role);
      return role;
    },
  };
}

/** Everything the panel's login and its /api guard share; built once per app. */
export function createPanelAuth(deps: AppDeps) {
  const prefix = `${deps.cfg.REDIS_PREFIX}:panel`;
  const now = () => deps.now().getTime();
  const directory = discordMembers({ cfg: deps.cfg, db: deps.db, rest: createDiscordRest(deps.cfg) });
  return {
    members: directory,
    sessions: sessionStore({ redis: deps.redis, prefix, now }),
    logins: loginStates({ redis: deps.redis, prefix, now }),
    tokens: apiTokens(deps),
    roles: roleCache({ redis: deps.redis, prefix, now, members: directory }),
    loginLimiter: createRateLimiter(deps.redis, {
      prefix: `${prefix}:login`,
      limits: () => ({ limit: deps.cfg.AUTH_RATE_LIMIT_PER_MIN, windowSeconds: 60 }),
    }),
    apiLimiter: createRateLimiter(deps.redis, {
      prefix: `${prefix}:api`,
      limits: () => ({ limit: deps.cfg.API_RATE_LIMIT_PER_MIN, windowSeconds: 60 }),
    }),
  };
}

export type PanelAuth = ReturnType<typeof createPanelAuth>;

/** Loopback and private networks: where a reverse proxy in front of us (Caddy in compose) connects from. */
const PROXY_NETWORKS = new BlockList();
for (const [net, bits] of [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  PROXY_NETWORKS.addSubnet(net, bits, 'ipv4');
PROXY_NETWORKS.addAddress('::1', 'ipv6');
PROXY_NETWORKS.addSubnet('fc00::', 7, 'ipv6');

const fromProxyNetwork = (address: string) => {
  const v4 = address.replace(/^::ffff:/i, '');
  return isIPv4(v4) ? PROXY_NETWORKS.check(v4, 'ipv4') : PROXY_NETWORKS.check(address, 'ipv6');
};

/**
 * The client's address. Behind a proxy on a private network (Caddy), the last X-Forwarded-For entry, the one the
 * proxy appended (earlier entries come from the client and prove nothing); a peer on a public address is the
 * client itself, whatever header it sends.
 */
export function clientIp(c: Context<AppEnv>): string {
  const peer = c.env?.incoming?.socket.remoteAddress;
  const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
  if (peer && !fromProxyNetwork(peer)) return peer;
  return forwarded || peer || 'unknown';
}

/** Counts one request for `subject`; a 429 with Retry-After when it is over its limit, else undefined. */
export async function overLimit(
  c: Context<AppEnv>,
  limiter: RateLimiter,
  subject: string,
): Promise<Response | undefined> {
  const { allowed, retryAfterSeconds } = await limiter.take(subject);
  if (allowed) return undefined;
  return c.json({ error: { code: 'rate_limited', message: 'Too many requests; try again shortly.' } }, 429, {
    'Retry-After': String(retryAfterSeconds),
  });
}

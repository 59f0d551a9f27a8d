import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { randomToken } from './discord.ts';

/** The panel session's cookie (a contract: docs/panel-api.md). */
export const SESSION_COOKIE = '__Host-coinhub_session';
/** The pre-session cookie that binds an OAuth `state` to the browser that started the login. */
export const LOGIN_COOKIE = '__Host-coinhub_login';

export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;
/** How long a login may take between the login redirect and Discord's callback. */
export const LOGIN_STATE_MS = 10 * 60_000;

export interface Session {
  id: string;
  /** The Coinhub user (`users.id`). */
  userId: string;
  discordId: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

/** A value with its HMAC-SHA256 under SESSION_SECRET: `<value>.<signature>`. */
export function signValue(secret: string, value: string): string {
  return `${value}.${createHmac('sha256', secret).update(value).digest('base64url')}`;
}

/** The value of a signed cookie, or null when the signature does not match. */
export function unsignValue(secret: string, signed: string | undefined): string | null {
  if (!signed) return null;
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  const expected = Buffer.from(signValue(secret, value).slice(dot + 1));
  return given.length === expected.length && timingSafeEqual(given, expected) ? value : null;
}

/**
 * A `Set-Cookie` value for the panel's cookies: HttpOnly, Secure, Path=/, no Domain. Secure even on plain
 * http://localhost: browsers refuse a `__Host-` cookie without it, and they treat localhost as a secure context,
 * so a developer's `npm start` panel keeps its session.
 */
export function cookieHeader(
  name: string,
  value: string,
  options: { maxAgeSeconds: number; sameSite: 'Strict' | 'Lax' },
): string {
  return [
    `${name}=${value}`,
    `Max-Age=${options.maxAgeSeconds}`,
    'Path=/',
    'HttpOnly',
    'Secure',
    `SameSite=${options.sameSite}`,
  ].join('; ');
}

/**
 * Panel sessions in Redis under `<prefix>:session:<id>`: an opaque random id, idle timeout 30 min and absolute
 * 12 h measured with the process clock (so a test can move it), and a Redis expiry that drops idle ones.
 */
export function sessionStore(deps: { redis: Redis; prefix: string; now: () => number }) {
  const key = (id: string) => `${deps.prefix}:session:${id}`;
  const expiresIn = (s: Session, at: number) =>
    Math.min(s.lastSeenAt + SESSION_IDLE_MS, s.createdAt + SESSION_ABSOLUTE_MS) - at;

  return {
    /** A new session with its own id and CSRF token; an earlier session id is never reused. */
    async create(user: { userId: string; discordId: string }): Promise<Session> {
      const at = deps.now();
      const session: Session = {
        id: randomToken(),
        ...user,
        csrfToken: randomToken(),
        createdAt: at,
        lastSeenAt: at,
      };
      await deps.redis.set(key(session.id), JSON.stringify(session), 'PX', SESSION_IDLE_MS);
      return session;
    },

    /** The live session with this id, its idle timer restarted; null (and deleted) when it has expired. */
    async use(id: string): Promise<Session | null> {
      const raw = await deps.redis.get(key(id));
      if (!raw) return null;
      const session = JSON.parse(raw) as Session;
      const at = deps.now();
      if (expiresIn(session, at) <= 0) {
        await deps.redis.del(key(id));
        return null;
      }
      session.lastSeenAt = at;
      await deps.redis.set(key(id), JSON.stringify(session), 'PX', expiresIn(session, at));
      return session;
    },

    async destroy(id: string): Promise<void> {
      await deps.redis.del(key(id));
    },
  };
}

export type SessionStore = ReturnType<typeof sessionStore>;

interface PendingLogin {
  /** The random value in the browser's login cookie; the callback must bring the same one. */
  binding: string;
  verifier: string;
  createdAt: number;
}

/** OAuth `state`s waiting for their callback, each usable once within 10 minutes. */
export function loginStates(deps: { redis: Redis; prefix: string; now: () => number }) {
  const key = (state: string) => `${deps.prefix}:login:${state}`;
  return {
    async begin(): Promise<{ state: string } & PendingLogin> {
      const pending: PendingLogin = {
        binding: randomToken(),
        verifier: randomToken(),
        createdAt: deps.now(),
      };
      const state = randomToken();
      await deps.redis.set(key(state), JSON.stringify(pending), 'PX', LOGIN_STATE_MS);
      return { state, ...pending };
    },

    /** Takes the state (a second callback with it finds nothing) if it is fresh and bound to `binding`. */
    async take(state: string, binding: string | null): Promise<PendingLogin | null> {
      if (!/^[\w-]{16,100}$/.test(state)) return null;
      const raw = await deps.redis.getdel(key(state));
      if (!raw) return null;
      const pending = JSON.parse(raw) as PendingLogin;
      if (binding === null || pending.binding !== binding) return null;
      if (deps.now() - pending.createdAt > LOGIN_STATE_MS) return null;
      return pending;
    },
  };
}

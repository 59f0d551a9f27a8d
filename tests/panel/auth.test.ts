import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscordApi } from '../../playground/discord/fake-api.ts';
import { FakeDiscordOAuth, type FakeUser } from '../../playground/discord/discord-oauth.ts';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process.ts';

// System test: the real entry point (ROLE=api) with a fake Discord (OAuth2, members, roles) behind it; the test
// plays the browser, carrying cookies by hand.
const GUILD = '960000000000000001';
const ADMIN_ROLE = '960000000000000010';
const MOD_ROLE = '960000000000000011';
const VIEWER_ROLE = '960000000000000012';
const DISCORD_ADMIN_ROLE = '960000000000000013';
const CLIENT_ID = '960000000000000099';
const CLIENT_SECRET = 'fake-client-secret';
const SESSION_COOKIE = '__Host-coinhub_session';

const owner: FakeUser = { id: '560000000000000001', username: 'guildowner' };
const discordAdmin: FakeUser = { id: '560000000000000002', username: 'administrator' };
const admin: FakeUser = { id: '560000000000000003', username: 'admin' };
const mod: FakeUser = { id: '560000000000000004', username: 'mod' };
const player: FakeUser = { id: '560000000000000005', username: 'player' };
const stranger: FakeUser = { id: '560000000000000006', username: 'stranger' };

let fake: FakeDiscordApi;
let oauth: FakeDiscordOAuth;
let pg: TestDatabase;
let server: ServerProcess;
let base: string;
let clockDir: string;
let clockFile: string;

const setClock = (offsetMs: number) => writeFileSync(clockFile, String(offsetMs));

/** `name=value` pairs of a response's Set-Cookie headers, with their attributes. */
function setCookies(res: Response): Map<string, { value: string; attributes: string[] }> {
  const out = new Map<string, { value: string; attributes: string[] }>();
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attributes] = line.split(/;\s*/);
    const eq = pair!.indexOf('=');
    out.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), attributes });
  }
  return out;
}

const get = (p: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${p}`, { headers, redirect: 'manual' });

interface Browser {
  /** The session cookie, as the browser would send it. */
  session?: string;
  ip?: string;
}

// Each login comes from its own address unless a test says otherwise, so only the rate-limit test meets the
// per-IP login limit.
let ipSeq = 0;
const freshIp = () => `198.51.100.${(ipSeq++ % 250) + 1}`;

/** The login up to Discord's redirect back: the callback URL and the login cookie the browser holds. */
async function beginLogin(who: FakeUser, browser: Browser = {}) {
  const start = await get('/auth/discord/login', { 'x-forwarded-for': browser.ip ?? freshIp() });
  expect(start.status).toBe(302);
  const loginCookie = setCookies(start).get('__Host-coinhub_login')!;
  oauth.signInAs(who);
  const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  return {
    authorizeUrl: new URL(start.headers.get('location')!),
    callback: new URL(authorize.headers.get('location')!),
    loginCookie,
  };
}

/** Discord's redirect back to the callback, with the cookies the browser holds. */
function callback(url: URL, loginCookie: string | undefined, browser: Browser = {}) {
  const cookies = [
    ...(loginCookie ? [`__Host-coinhub_login=${loginCookie}`] : []),
    ...(browser.session ? [`${SESSION_COOKIE}=${browser.session}`] : []),
  ];
  return get(`${url.pathname}${url.search}`, {
    ...(cookies.length ? { cookie: cookies.join('; ') } : {}),
    'x-forwarded-for': browser.ip ?? freshIp(),
  });
}

/** A full login; the session cookie's value, or undefined when none was set. */
async function login(who: FakeUser, browser: Browser = {}) {
  const { callback: url, loginCookie } = await beginLogin(who, browser);
  const res = await callback(url, loginCookie.value, browser);
  return { res, session: setCookies(res).get(SESSION_COOKIE)?.value || undefined };
}

const me = (session: string, headers: Record<string, string> = {}) =>
  get('/api/me', { cookie: `${SESSION_COOKIE}=${session}`, ...headers });

async function meBody(session: string) {
  const res = await me(session);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    role: string;
    permissions: string[];
    csrfToken: string;
    user: { discordId: string };
  };
}

const rowCount = async (table: 'api_tokens' | 'audit_log') =>
  Number(
    (
      await pg.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

beforeAll(async () => {
  pg = await createTestDatabase(4);
  fake = await FakeDiscordApi.start({ token: 'fake-bot-token' });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  oauth = FakeDiscordOAuth.install(fake, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`${base}/auth/discord/callback`, 'https://elsewhere.example/callback'],
  });
  oauth.addGuild(GUILD, owner.id, [
    { id: DISCORD_ADMIN_ROLE, name: 'Staff', permissions: String(1n << 3n) },
    { id: ADMIN_ROLE, permissions: '0' },
    { id: MOD_ROLE, permissions: '0' },
    { id: VIEWER_ROLE, permissions: '0' },
  ]);
  oauth.setMember(GUILD, owner);
  oauth.setMember(GUILD, discordAdmin, [DISCORD_ADMIN_ROLE]);
  oauth.setMember(GUILD, admin, [ADMIN_ROLE]);
  oauth.setMember(GUILD, mod, [MOD_ROLE]);
  oauth.setMember(GUILD, player);
  await pg.db
    .insertInto('guild_settings')
    .values({
      guild_id: GUILD,
      role_map: JSON.stringify({ admin: [ADMIN_ROLE], moderator: [MOD_ROLE], viewer: [VIEWER_ROLE] }),
    })
    .execute();
  clockDir = mkdtempSync(path.join(tmpdir(), 'coinhub-clock-'));
  clockFile = path.join(clockDir, 'offset');
  setClock(0);
  server = await startServer({
    PORT: String(port),
    ROLE: 'api',
    DATABASE_URL: pg.url,
    REDIS_URL,
    REDIS_PREFIX: testRedisPrefix(),
    DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
    DISCORD_TOKEN: 'fake-bot-token',
    DISCORD_CLIENT_ID: CLIENT_ID,
    DISCORD_CLIENT_SECRET: CLIENT_SECRET,
    DISCORD_API_BASE: fake.url,
    DISCORD_OAUTH_BASE: fake.origin,
    GUILD_ID: GUILD,
    PANEL_BASE_URL: base,
    SESSION_SECRET: 'test-session-secret-0123456789abcdef',
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef',
    AUTH_RATE_LIMIT_PER_MIN: '40',
    API_RATE_LIMIT_PER_MIN: '50',
    TEST_CLOCK_OFFSET_FILE: clockFile,
  });
});

afterEach(() => setClock(0));

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  await pg?.drop();
  rmSync(clockDir, { recursive: true, force: true });
});

describe('login with Discord', () => {
  it('sends the browser to Discord with the code flow, scope identify, PKCE S256 and a state bound to a cookie', async () => {
    const { authorizeUrl, loginCookie } = await beginLogin(owner);
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${fake.origin}/oauth2/authorize`);
    const q = Object.fromEntries(authorizeUrl.searchParams);
    expect(q).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      scope: 'identify',
      redirect_uri: `${base}/auth/discord/callback`,
      code_challenge_method: 'S256',
    });
    expect(q.state).toMatch(/^[\w-]{32,}$/);
    expect(q.code_challenge).toMatch(/^[\w-]{43}$/);
    expect(loginCookie.attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'Path=/', 'SameSite=Lax', 'Max-Age=600']),
    );
    expect(fake.problems).toEqual([]);
  });

  it('signs a guild member with a Coinhub role in: a Strict HttpOnly session cookie, then /api/me', async () => {
    const { res, session } = await login(owner);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${base}/`);
    const cookie = setCookies(res).get(SESSION_COOKIE)!;
    // Secure even on http://127.0.0.1: browsers keep Secure cookies from the local machine.
    expect(cookie.attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'Secure', 'Path=/', 'SameSite=Strict']),
    );
    expect(setCookies(res).get('__Host-coinhub_login')?.value).toBe('');

    const body = await meBody(session!);
    expect(body).toMatchObject({ role: 'owner', user: { discordId: owner.id, username: 'guildowner' } });
    expect(body.permissions).toContain('tokens.manage');
    expect(body.csrfToken).toMatch(/^[\w-]{32,}$/);
    const user = await pg.db
      .selectFrom('users')
      .select('username')
      .where('discord_id', '=', owner.id)
      .executeTakeFirst();
    expect(user?.username).toBe('guildowner');
    expect(fake.problems).toEqual([]);
  });

  it('resolves the role like interactions do: Administrator is owner, mapped roles their Coinhub role', async () => {
    expect((await meBody((await login(discordAdmin)).session!)).role).toBe('owner');
    const modMe = await meBody((await login(mod)).session!);
    expect(modMe.role).toBe('moderator');
    expect(modMe.permissions).toContain('tx.refund');
    expect(modMe.permissions).not.toContain('balance.adjust');
  });

  it('gives a non-member and a plain player a no-access page and no session', async () => {
    for (const who of [stranger, player]) {
      const { res, session } = await login(who);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('No access');
      expect(session).toBeUndefined();
    }
  });

  it('says so, and starts no session, when the bot cannot read the guild', async () => {
    const roles = oauth.roles.get(GUILD)!;
    oauth.roles.delete(GUILD);
    try {
      const { res, session } = await login(admin);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('check that it is in GUILD_ID');
      expect(session).toBeUndefined();
    } finally {
      oauth.roles.set(GUILD, roles);
    }
  });

  it('refuses a replayed state, a tampered state and a state without the browser cookie that started it', async () => {
    const first = await beginLogin(owner);
    const ok = await callback(first.callback, first.loginCookie.value);
    expect(setCookies(ok).get(SESSION_COOKIE)?.value).toBeTruthy();
    const replay = await callback(first.callback, first.loginCookie.value);
    expect(replay.status).toBe(400);
    expect(setCookies(replay).get(SESSION_COOKIE)).toBeUndefined();

    const tampered = await beginLogin(owner);
    tampered.callback.searchParams.set('state', 'x'.repeat(43));
    expect((await callback(tampered.callback, tampered.loginCookie.value)).status).toBe(400);

    const otherBrowser = await beginLogin(owner);
    const noCookie = await callback(otherBrowser.callback, undefined);
    expect(noCookie.status).toBe(400);
    expect(setCookies(noCookie).get(SESSION_COOKIE)).toBeUndefined();
    // The state is spent even so: the right browser cannot use it afterwards either.
    expect((await callback(otherBrowser.callback, otherBrowser.loginCookie.value)).status).toBe(400);
  });

  it('refuses a state older than ten minutes', async () => {
    const pending = await beginLogin(owner);
    setClock(10 * 60_000 + 1000);
    const res = await callback(pending.callback, pending.loginCookie.value);
    expect(res.status).toBe(400);
    expect(setCookies(res).get(SESSION_COOKIE)).toBeUndefined();
  });

  it('refuses a replayed code, a code issued for another redirect, and a code without our PKCE verifier', async () => {
    const first = await beginLogin(owner);
    await callback(first.callback, first.loginCookie.value);
    const spentCode = first.callback.searchParams.get('code')!;

    // Codes obtained elsewhere, each brought back with a fresh, valid state of ours.
    oauth.signInAs(owner);
    const codeFor = async (redirect: string) => {
      const url = new URL(`${fake.origin}/oauth2/authorize`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: CLIENT_ID,
        scope: 'identify',
        redirect_uri: redirect,
        state: 'theirs',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString();
      const res = await fetch(url, { redirect: 'manual' });
      return new URL(res.headers.get('location')!).searchParams.get('code')!;
    };
    const otherRedirect = await codeFor('https://elsewhere.example/callback');
    const otherVerifier = await codeFor(`${base}/auth/discord/callback`);

    for (const code of [spentCode, otherRedirect, otherVerifier]) {
      const fresh = await beginLogin(owner);
      fresh.callback.searchParams.set('code', code);
      const res = await callback(fresh.callback, fresh.loginCookie.value);
      expect(res.status, code).toBe(401);
      expect(setCookies(res).get(SESSION_COOKIE)).toBeUndefined();
    }
  });
});

describe('sessions', () => {
  it('answers /api without a session (or with a forged cookie) with 401', async () => {
    expect((await get('/api/me')).status).toBe(401);
    const forged = await me('not-a-real-session.c2lnbmF0dXJl');
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: 'not_signed_in' } });
  });

  it('never keeps a session id from before the login (fixation): a new id, and the old one ends', async () => {
    const before = (await login(admin)).session!;
    const planted = 'planted-session-id.AAAA';
    for (const cookie of [before, planted]) {
      const { session: after } = await login(admin, { session: cookie });
      expect(after).toBeTruthy();
      expect(after).not.toBe(cookie);
      expect((await me(after!)).status).toBe(200);
    }
    expect((await me(before)).status).toBe(401);
  });

  it('ends after 30 idle minutes, while use keeps it alive', async () => {
    const { session } = await login(admin);
    setClock(29 * 60_000);
    expect((await me(session!)).status).toBe(200);
    setClock(58 * 60_000);
    expect((await me(session!)).status).toBe(200);
    setClock(88 * 60_000 + 1000);
    expect((await me(session!)).status).toBe(401);
    setClock(0);
    expect((await me(session!)).status).toBe(401);
  });

  it('ends 12 hours after login however busy it is', async () => {
    const { session } = await login(admin);
    const minute = 60_000;
    for (let at = 25 * minute; at < 12 * 60 * minute; at += 25 * minute) {
      setClock(at);
      expect((await me(session!)).status, `after ${at / minute} min`).toBe(200);
    }
    setClock(12 * 60 * minute + minute);
    expect((await me(session!)).status).toBe(401);
  });

  it('re-reads the role from Discord at most every 60 s: a demotion bites within a minute', async () => {
    const demoted: FakeUser = { id: '560000000000000010', username: 'demoted' };
    const fired: FakeUser = { id: '560000000000000011', username: 'fired' };
    oauth.setMember(GUILD, demoted, [ADMIN_ROLE]);
    oauth.setMember(GUILD, fired, [ADMIN_ROLE]);
    const a = (await login(demoted)).session!;
    const b = (await login(fired)).session!;
    oauth.setMember(GUILD, demoted, [VIEWER_ROLE]);
    oauth.removeMember(GUILD, fired.id);
    const memberCalls = () =>
      fake.callsTo('GET', new RegExp(`/guilds/${GUILD}/members/(${demoted.id}|${fired.id})`));
    const callsBefore = memberCalls().length;
    setClock(30_000);
    expect((await meBody(a)).role).toBe('admin');
    expect(memberCalls().length).toBe(callsBefore);

    setClock(60_000);
    expect((await meBody(a)).role).toBe('viewer');
    const gone = await me(b);
    expect(gone.status).toBe(403);
    expect(await gone.json()).toMatchObject({ error: { code: 'no_access' } });
    // The session of a member without a role is over, not just refused once.
    oauth.setMember(GUILD, fired, [ADMIN_ROLE]);
    expect((await me(b)).status).toBe(401);
  });

  it('logs out with the CSRF token and Origin; without them the session stays', async () => {
    const { session } = await login(admin);
    const { csrfToken } = await meBody(session!);
    const cookie = `${SESSION_COOKIE}=${session}`;
    const refused = await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie, origin: base } });
    expect(refused.status).toBe(403);
    expect((await me(session!)).status).toBe(200);
    const res = await fetch(`${base}/auth/logout`, {
      method: 'POST',
      headers: { cookie, origin: base, 'x-csrf-token': csrfToken },
    });
    expect(res.status).toBe(204);
    expect(setCookies(res).get(SESSION_COOKIE)?.attributes).toContain('Max-Age=0');
    expect((await me(session!)).status).toBe(401);
  });
});

describe('CSRF, CORS and headers', () => {
  it('refuses a state change without the CSRF token or the panel Origin with 403, writing nothing', async () => {
    const { session } = await login(owner);
    const { csrfToken } = await meBody(session!);
    const cookie = `${SESSION_COOKIE}=${session}`;
    const [tokensBefore, auditBefore] = [await rowCount('api_tokens'), await rowCount('audit_log')];
    const attempts: Record<string, string>[] = [
      { origin: base },
      { origin: base, 'x-csrf-token': 'wrong' },
      { origin: base, 'x-csrf-token': csrfToken.slice(0, -1) + (csrfToken.endsWith('A') ? 'B' : 'A') },
      { 'x-csrf-token': csrfToken },
      { origin: 'https://evil.example', 'x-csrf-token': csrfToken },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${base}/api/tokens`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'ci', scope: 'read' }),
      });
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
    expect(await rowCount('api_tokens')).toBe(tokensBefore);
    expect(await rowCount('audit_log')).toBe(auditBefore);
  });

  it('allows CORS for the panel origin only', async () => {
    const { session } = await login(owner);
    const evil = await me(session!, { origin: 'https://evil.example' });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${base}/api/tokens`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const own = await me(session!, { origin: base });
    expect(own.headers.get('access-control-allow-origin')).toBe(base);
    expect(own.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('sends secure headers with a strict CSP on /api and /auth', async () => {
    for (const res of [await get('/api/me'), await get('/auth/discord/login')]) {
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});

describe('API tokens', () => {
  async function ownerSession() {
    const { session } = await login(owner);
    const { csrfToken } = await meBody(session!);
    const headers = {
      cookie: `${SESSION_COOKIE}=${session}`,
      origin: base,
      'x-csrf-token': csrfToken,
      'content-type': 'application/json',
    };
    const create = async (body: unknown) =>
      fetch(`${base}/api/tokens`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { headers, create };
  }
  const bearer = (token: string, init: RequestInit = {}) => ({
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
  });

  it('lets an owner create a read token that works on /api without cookie or CSRF and cannot write', async () => {
    const { create, headers } = await ownerSession();
    const res = await create({ name: 'metrics', scope: 'read', expiresInDays: 7 });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { token: string; id: string; scope: string; expiresAt: string };
    expect(created.scope).toBe('read');
    const meRes = await fetch(`${base}/api/me`, bearer(created.token));
    expect(meRes.status).toBe(200);
    expect(await meRes.json()).toMatchObject({
      role: 'owner',
      auth: { kind: 'token', scope: 'read' },
      csrfToken: null,
    });

    const write = await fetch(
      `${base}/api/tokens/${created.id}`,
      bearer(created.token, { method: 'DELETE' }),
    );
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({ error: { code: 'token_read_only' } });

    const list = (await (await fetch(`${base}/api/tokens`, { headers })).json()) as {
      tokens: { id: string }[];
    };
    expect(list.tokens.map((t) => t.id)).toContain(created.id);
    const audit = await pg.db
      .selectFrom('audit_log')
      .select(['action', 'actor_role', 'source'])
      .where('target_id', '=', created.id)
      .execute();
    expect(audit).toEqual([{ action: 'token.create', actor_role: 'owner', source: 'panel' }]);
  });

  it('takes a write token without CSRF (no cookie involved), but not for managing tokens', async () => {
    const { create } = await ownerSession();
    const { token } = (await (await create({ name: 'bot', scope: 'write' })).json()) as { token: string };
    const res = await fetch(
      `${base}/api/tokens`,
      bearer(token, { method: 'POST', body: JSON.stringify({ name: 'x', scope: 'write' }) }),
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'session_required' } });
  });

  it('stops a revoked token at once and an expired one at its expiry', async () => {
    const { create, headers } = await ownerSession();
    const revoked = (await (await create({ name: 'revoke-me', scope: 'read' })).json()) as {
      token: string;
      id: string;
    };
    const expiring = (await (await create({ name: 'day', scope: 'read', expiresInDays: 1 })).json()) as {
      token: string;
    };
    expect((await fetch(`${base}/api/me`, bearer(revoked.token))).status).toBe(200);
    const del = await fetch(`${base}/api/tokens/${revoked.id}`, { method: 'DELETE', headers });
    expect(del.status).toBe(200);
    expect(((await del.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
    expect((await fetch(`${base}/api/me`, bearer(revoked.token))).status).toBe(401);

    setClock(24 * 60 * 60_000 - 60_000);
    expect((await fetch(`${base}/api/me`, bearer(expiring.token))).status).toBe(200);
    setClock(24 * 60 * 60_000 + 1000);
    expect((await fetch(`${base}/api/me`, bearer(expiring.token))).status).toBe(401);
    expect((await fetch(`${base}/api/me`, bearer(expiring.token + 'x'))).status).toBe(401);
  });

  it('refuses tokens longer than 90 days, bad bodies, and non-owners', async () => {
    const { create } = await ownerSession();
    const before = await rowCount('api_tokens');
    for (const body of [
      { name: 'long', scope: 'read', expiresInDays: 91 },
      { name: 'bad', scope: 'admin' },
      { name: '', scope: 'read' },
      { name: 'extra', scope: 'read', role: 'owner' },
    ]) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_body' } });
    }
    const { session } = await login(admin);
    const { csrfToken } = await meBody(session!);
    const res = await fetch(`${base}/api/tokens`, {
      method: 'POST',
      headers: { cookie: `${SESSION_COOKIE}=${session}`, origin: base, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ name: 'mine', scope: 'read' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect(await rowCount('api_tokens')).toBe(before);
  });
});

describe('the admin API behind the guard', () => {
  it('serves the OpenAPI document to anyone and the admin routes only to a signed-in member', async () => {
    expect((await get('/api/openapi.json')).status).toBe(200);
    const anonymous = await get('/api/dashboard');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'not_signed_in' } });
    const { session } = await login(mod);
    expect((await get('/api/dashboard', { cookie: `${SESSION_COOKIE}=${session!}` })).status).toBe(200);
  });

  it("checks a cookie write's CSRF token, then lets the economy refuse a role that may not act", async () => {
    const { session } = await login(mod);
    const { csrfToken } = await meBody(session!);
    const before = await rowCount('audit_log');
    const patch = (headers: Record<string, string>) =>
      fetch(`${base}/api/settings`, {
        method: 'PATCH',
        headers: { cookie: `${SESSION_COOKIE}=${session!}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ values: { dailyBase: 7 } }),
      });
    const noToken = await patch({ origin: base });
    expect(noToken.status).toBe(403);
    expect(await noToken.json()).toMatchObject({ error: { code: 'bad_csrf_token' } });
    const moderator = await patch({ origin: base, 'x-csrf-token': csrfToken });
    expect(moderator.status).toBe(403);
    expect(await moderator.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect(await rowCount('audit_log')).toBe(before);
  });
});

describe('rate limits', () => {
  it('limits logins per client IP with 429 and Retry-After', async () => {
    const ip = '203.0.113.7';
    let last: Response | undefined;
    for (let i = 0; i < 41; i++) last = await get('/auth/discord/login', { 'x-forwarded-for': ip });
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await get('/auth/discord/login', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(302);
  });

  it('limits API calls per session with 429 and Retry-After', async () => {
    const { session } = await login(mod);
    const other = (await login(mod)).session!;
    let last: Response | undefined;
    for (let i = 0; i < 51; i++) last = await me(session!);
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await me(other)).status).toBe(200);
  });
});

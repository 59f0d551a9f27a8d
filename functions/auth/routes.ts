import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { AppError } from '../../economy/errors.ts';
import { upsertDiscordUser } from '../../economy/users.ts';
import type { AppDeps, AppEnv } from '../context.ts';
import { discordProfile } from '../interactions/options.ts';
import { panelOrigin, requireCsrf, requirePanelOrigin } from './csrf.ts';
import { authorizeUrl, exchangeCode, requireLoginConfig } from './discord.ts';
import { clientIp, overLimit, type PanelAuth } from './panel.ts';
import {
  cookieHeader,
  LOGIN_COOKIE,
  LOGIN_STATE_MS,
  SESSION_ABSOLUTE_MS,
  SESSION_COOKIE,
  signValue,
  unsignValue,
} from './sessions.ts';

/** A plain page for the browser at the end of a login that did not sign anyone in. */
function loginPage(c: Context<AppEnv>, status: 400 | 401 | 403 | 429 | 503, title: string, text: string) {
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
      `<title>${title} · Coinhub</title></head><body><h1>${title}</h1><p>${text}</p>` +
      `<p><a href="/auth/discord/login">Log in with Discord</a></p></body></html>`,
    status,
  );
}

const NO_ACCESS =
  'Your Discord account is not a member of this server, or holds none of the roles that may use the panel ' +
  '(owner, admin, moderator, viewer). Ask an owner of the server to give you one, then log in again.';

/**
 * `GET /auth/discord/login`, `GET /auth/discord/callback`, `POST /auth/logout`: Discord's authorization code flow
 * with PKCE, its `state` bound to the browser by a short-lived cookie, and a fresh server-side session for a
 * member with a Coinhub role.
 */
export function authRoutes(deps: AppDeps, panel: PanelAuth) {
  const { cfg } = deps;
  const origin = panelOrigin(cfg);
  const clearLoginCookie = cookieHeader(LOGIN_COOKIE, '', { maxAgeSeconds: 0, sameSite: 'Lax' });
  const clearSessionCookie = cookieHeader(SESSION_COOKIE, '', { maxAgeSeconds: 0, sameSite: 'Strict' });

  return new Hono<AppEnv>()
    .get('/auth/discord/login', async (c) => {
      const limited = await overLimit(c, panel.loginLimiter, clientIp(c));
      if (limited) return limited;
      const login = requireLoginConfig(cfg);
      const pending = await panel.logins.begin();
      // Lax, not Strict: the browser must send it on the top-level redirect back from discord.com.
      c.header(
        'Set-Cookie',
        cookieHeader(LOGIN_COOKIE, signValue(login.SESSION_SECRET, pending.binding), {
          maxAgeSeconds: LOGIN_STATE_MS / 1000,
          sameSite: 'Lax',
        }),
      );
      c.header('Cache-Control', 'no-store');
      return c.redirect(authorizeUrl(login, pending.state, pending.verifier), 302);
    })

    .get('/auth/discord/callback', async (c) => {
      const limited = await overLimit(c, panel.loginLimiter, clientIp(c));
      if (limited) return limited;
      c.header('Cache-Control', 'no-store');
      c.header('Set-Cookie', clearLoginCookie, { append: true });
      let login;
      try {
        login = requireLoginConfig(cfg);
      } catch (err) {
        return loginPage(c, 503, 'Login is not set up', (err as AppError).message);
      }
      const { code, state, error } = c.req.query();
      if (error) return loginPage(c, 401, 'Login cancelled', 'Discord did not sign you in.');
      const binding = unsignValue(login.SESSION_SECRET, getCookie(c, LOGIN_COOKIE));
      const pending = state ? await panel.logins.take(state, binding) : null;
      if (!pending || !code)
        return loginPage(
          c,
          400,
          'This login link is no longer valid',
          'Login links work once, for ten minutes, in the browser that opened them. Start again.',
        );

      let discordUser;
      let role;
      try {
        discordUser = await exchangeCode(login, code, pending.verifier);
        role = await panel.members.roleOf(discordUser.id);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return loginPage(c, err.status === 503 ? 503 : 401, 'Login failed', err.message);
      }
      if (!role) return loginPage(c, 403, 'No access', NO_ACCESS);

      const user = await upsertDiscordUser(deps.db, discordProfile(discordUser));
      // A session id the browser had before is never the session after: it is ended, and a new one begins.
      const previous = unsignValue(login.SESSION_SECRET, getCookie(c, SESSION_COOKIE));
      if (previous) await panel.sessions.destroy(previous);
      const session = await panel.sessions.create({ userId: user.id, discordId: discordUser.id });
      await panel.roles.remember(discordUser.id, role);
      c.header(
        'Set-Cookie',
        cookieHeader(SESSION_COOKIE, signValue(login.SESSION_SECRET, session.id), {
          maxAgeSeconds: SESSION_ABSOLUTE_MS / 1000,
          sameSite: 'Strict',
        }),
        { append: true },
      );
      return c.redirect(new URL('/', cfg.PANEL_BASE_URL).toString(), 302);
    })

    .post('/auth/logout', async (c) => {
      requirePanelOrigin(c, origin);
      const secret = cfg.SESSION_SECRET;
      const id = secret ? unsignValue(secret, getCookie(c, SESSION_COOKIE)) : null;
      const session = id ? await panel.sessions.use(id) : null;
      if (session) {
        requireCsrf(c, origin, session.csrfToken);
        await panel.sessions.destroy(session.id);
      }
      c.header('Set-Cookie', clearSessionCookie);
      return c.body(null, 204);
    });
}

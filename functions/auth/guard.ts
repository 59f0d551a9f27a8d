import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { AppError } from '../../economy/errors.ts';
import type { AppDeps, AppEnv, PanelCredential } from '../context.ts';
import { panelOrigin, requireCsrf, SAFE_METHODS } from './csrf.ts';
import { overLimit, type PanelAuth } from './panel.ts';
import { SESSION_COOKIE, unsignValue } from './sessions.ts';

const BEARER = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/;

/**
 * The guard in front of every /api route. A request authenticates with the panel's session cookie or an API
 * token (`Authorization: Bearer`); a cookie request that changes state must also pass the CSRF check (a bearer
 * request carries no ambient credential, so it needs none); a `read` token may only read. Then it is counted
 * against the API rate limit of its session or token, and the member's role is re-read from Discord when the
 * one held is a minute old: a member who lost every Coinhub role is refused and their session ends. Routes get
 * `c.get('actor')`, `c.get('auth')` and `c.get('sessionAlive')`.
 */
export function panelAuth(deps: AppDeps, panel: PanelAuth): MiddlewareHandler<AppEnv> {
  const origin = panelOrigin(deps.cfg);
  const secret = deps.cfg.SESSION_SECRET;

  return async function panelAuth(c, next) {
    let who: { userId: string; discordId: string };
    let credential: PanelCredential;
    let token: string | undefined;
    const authorization = c.req.header('authorization');
    if (authorization !== undefined) {
      const match = BEARER.exec(authorization);
      token = match?.[1];
      const holder = token ? await panel.tokens.verify(token) : null;
      if (!holder)
        throw new AppError('invalid_token', 'The API token is malformed, revoked or expired.', 401);
      if (holder.scope === 'read' && !SAFE_METHODS.has(c.req.method))
        throw new AppError(
          'token_read_only',
          'This API token has the read scope; it cannot change anything.',
          403,
        );
      who = holder;
      credential = { kind: 'token', tokenId: holder.tokenId, scope: holder.scope };
    } else {
      const id = secret ? unsignValue(secret, getCookie(c, SESSION_COOKIE)) : null;
      const session = id ? await panel.sessions.use(id) : null;
      if (!session) throw new AppError('not_signed_in', 'Sign in to the panel with Discord first.', 401);
      if (!SAFE_METHODS.has(c.req.method)) requireCsrf(c, origin, session.csrfToken);
      who = session;
      credential = { kind: 'session', sessionId: session.id, csrfToken: session.csrfToken };
    }

    const subject = credential.kind === 'session' ? `s:${credential.sessionId}` : `t:${credential.tokenId}`;
    const limited = await overLimit(c, panel.apiLimiter, subject);
    if (limited) return limited;

    const role = await panel.roles.current(who.discordId);
    if (!role) {
      if (credential.kind === 'session') await panel.sessions.destroy(credential.sessionId);
      throw new AppError(
        'no_access',
        'Your Discord account has no Coinhub role in this server any more.',
        403,
      );
    }
    c.set('actor', {
      kind: 'member',
      userId: who.userId,
      role,
      source: 'panel',
      requestId: c.get('requestId'),
    });
    c.set('auth', credential);
    // The SSE stream asks again while it stays open: a signed-out session or a revoked token ends it.
    c.set(
      'sessionAlive',
      credential.kind === 'session'
        ? async () => (await panel.sessions.use(credential.sessionId)) !== null
        : async () => (await panel.tokens.verify(token!)) !== null,
    );
    await next();
  };
}

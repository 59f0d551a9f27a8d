import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import type { Config } from '../../config/env.ts';
import { AppError } from '../../economy/errors.ts';
import type { AppEnv } from '../context.ts';

/** Methods that change nothing; every other method needs the CSRF check on cookie requests. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const panelOrigin = (cfg: Pick<Config, 'PANEL_BASE_URL'>): string =>
  new URL(cfg.PANEL_BASE_URL).origin;

/** 403 unless the request's `Origin` is the panel's own. */
export function requirePanelOrigin(c: Context<AppEnv>, origin: string): void {
  if (c.req.header('origin') !== origin)
    throw new AppError('bad_origin', 'This request must come from the Coinhub panel.', 403);
}

/**
 * The CSRF check of a cookie request that changes state: `Origin` equal to PANEL_BASE_URL's and an
 * `X-CSRF-Token` equal to the session's (from `GET /api/me`).
 */
export function requireCsrf(c: Context<AppEnv>, origin: string, csrfToken: string): void {
  requirePanelOrigin(c, origin);
  const given = Buffer.from(c.req.header('x-csrf-token') ?? '');
  const expected = Buffer.from(csrfToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new AppError(
      'bad_csrf_token',
      'The X-CSRF-Token header is missing or wrong; reload the panel.',
      403,
    );
}

/** CORS for /api and /auth: only the panel's origin, with its cookies, gets an allow header. */
export function panelCors(cfg: Pick<Config, 'PANEL_BASE_URL'>): MiddlewareHandler<AppEnv> {
  const allowed = panelOrigin(cfg);
  return cors({
    origin: (origin) => (origin === allowed ? origin : null),
    credentials: true,
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Content-Type', 'Authorization', 'X-CSRF-Token', 'Idempotency-Key', 'Last-Event-ID'],
    exposeHeaders: ['Retry-After', 'X-Request-Id'],
    maxAge: 600,
  });
}

/**
 * Secure headers for /api and /auth: a CSP that allows nothing to load or frame them (JSON and the plain
 * login pages need nothing), no referrer, same-origin resource policy, HSTS.
 */
export const panelSecureHeaders = (): MiddlewareHandler<AppEnv> =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
    },
    referrerPolicy: 'no-referrer',
    crossOriginResourcePolicy: 'same-origin',
    xFrameOptions: 'DENY',
  });

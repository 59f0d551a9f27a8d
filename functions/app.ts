import { Hono, type MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { AppError } from '../economy/errors.ts';
import { accountRoutes } from './auth/account.ts';
import { panelCors, panelSecureHeaders } from './auth/csrf.ts';
import { panelAuth } from './auth/guard.ts';
import { createPanelAuth } from './auth/panel.ts';
import { authRoutes } from './auth/routes.ts';
import { apiRoutes } from './api/routes.ts';
import type { StreamOptions } from './api/stream.ts';
import { limitBody } from './body-limit.ts';
import type { AppDeps, AppEnv } from './context.ts';
import { healthRoutes } from './health.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { minecraftWebhookRoutes } from './webhooks/minecraft.ts';

/** Largest body any route accepts; /interactions sets its own smaller limit. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface AppOptions {
  /** Who may call /api: sets `c.get('actor')` from a panel session or API token, or refuses. */
  authenticate?: MiddlewareHandler<AppEnv>;
  /** Heartbeat and slow-client limits of the transaction stream (tests shorten them). */
  stream?: StreamOptions;
}

/** Composes the HTTP app from its surfaces. */
export function createApp(deps: AppDeps, options: AppOptions = {}) {
  const app = new Hono<AppEnv>();
  const panel = createPanelAuth(deps);

  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(async (c, next) => {
    const log = deps.log.child({ requestId: c.get('requestId') });
    c.set('log', log);
    const started = performance.now();
    await next();
    // The matched route, not the path: ids and tokens in paths stay out of the logs.
    log.debug(
      {
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });
  app.use(limitBody(MAX_BODY_BYTES));

  app.route('/', healthRoutes(deps));
  app.route('/', interactionRoutes(deps));
  app.route('/', minecraftWebhookRoutes(deps));

  for (const path of ['/auth/*', '/api/*']) app.use(path, panelSecureHeaders(), panelCors(deps.cfg));
  app.route('/', authRoutes(deps, panel));
  const guard = options.authenticate ?? panelAuth(deps, panel);
  for (const path of ['/api/me', '/api/tokens', '/api/tokens/*']) app.use(path, guard);
  app.route('/api', accountRoutes(deps, panel));
  // The admin API puts the guard behind its public OpenAPI document.
  app.route('/api', apiRoutes(deps, guard, options.stream));

  app.notFound((c) => c.json({ error: { code: 'not_found', message: 'No such route.' } }, 404));
  app.onError((err, c) => {
    if (err instanceof AppError) {
      return c.json({ error: { code: err.code, message: err.message, ...err.details } }, err.status);
    }
    c.get('log')?.error({ err }, 'unhandled error');
    return c.json({ error: { code: 'internal', message: 'Something went wrong on our side.' } }, 500);
  });
  return app;
}

export type App = ReturnType<typeof createApp>;

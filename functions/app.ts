import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { AppError } from '../economy/errors.ts';
import { accountRoutes } from './auth/account.ts';
import { panelCors, panelSecureHeaders } from './auth/csrf.ts';
import { panelAuth } from './auth/guard.ts';
import { createPanelAuth } from './auth/panel.ts';
import { authRoutes } from './auth/routes.ts';
import { limitBody } from './body-limit.ts';
import type { AppDeps, AppEnv } from './context.ts';
import { healthRoutes } from './health.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { minecraftWebhookRoutes } from './webhooks/minecraft.ts';

/** Largest body any route accepts; /interactions sets its own smaller limit. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Composes the HTTP app from its surfaces. */
export function createApp(deps: AppDeps) {
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
  app.use('/api/*', panelAuth(deps, panel));
  app.route('/api', accountRoutes(deps, panel));

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

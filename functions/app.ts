import { Hono, type MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { AppError } from '../economy/errors.ts';
import { apiRoutes, requireSignIn } from './api/routes.ts';
import type { StreamOptions } from './api/stream.ts';
import { limitBody } from './body-limit.ts';
import type { AppDeps, AppEnv } from './context.ts';
import { healthRoutes } from './health.ts';
import { interactionRoutes } from './interactions/routes.ts';

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

  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(async (c, next) => {
    c.set('log', deps.log.child({ requestId: c.get('requestId') }));
    await next();
  });
  app.use(limitBody(MAX_BODY_BYTES));

  app.route('/', healthRoutes(deps));
  app.route('/', interactionRoutes(deps));
  app.route('/api', apiRoutes(deps, options.authenticate ?? requireSignIn, options.stream));

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

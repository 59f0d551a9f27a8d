import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../context.ts';
import { auditRoutes } from './audit.ts';
import { dashboardRoutes } from './dashboard.ts';
import { guildRoutes } from './guild.ts';
import { marketRoutes } from './market.ts';
import { apiGroup } from './openapi.ts';
import { settingsRoutes } from './settings.ts';
import { streamRoutes, type StreamOptions } from './stream.ts';
import { transferRoutes } from './transfers.ts';
import { userRoutes } from './users.ts';

/**
 * The panel API, mounted at /api. `authenticate` sets `c.get('actor')` or refuses; the routes behind it add
 * no rules of their own: the economy checks the actor's role.
 */
export function apiRoutes(deps: AppDeps, authenticate: MiddlewareHandler<AppEnv>, stream?: StreamOptions) {
  const api = apiGroup();
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Coinhub panel API',
      version: '1',
      description: 'The admin API of a Coinhub installation. See docs/panel-api.md.',
    },
  });
  api.use('*', authenticate);
  api.route('/', dashboardRoutes(deps));
  api.route('/', settingsRoutes(deps));
  api.route('/', userRoutes(deps));
  api.route('/', transferRoutes(deps));
  api.route('/', marketRoutes(deps));
  api.route('/', auditRoutes(deps));
  api.route('/', guildRoutes(deps));
  api.route('/', streamRoutes(deps, stream));
  return api;
}

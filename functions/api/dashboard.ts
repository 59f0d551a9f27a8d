import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { dashboard, DASHBOARD_RANGES, type DashboardRange } from '../../economy/stats.ts';
import type { AppDeps } from '../context.ts';
import { apiGroup, jsonResponse } from './openapi.ts';

const daySchema = z.object({
  day: z.string(),
  transfers: z.number(),
  minted: z.number(),
  burned: z.number(),
  fees: z.number(),
  marketVolume: z.number(),
  marketSales: z.number(),
  activeUsers: z.number(),
});

const dashboardSchema = z
  .object({
    range: z.enum(Object.keys(DASHBOARD_RANGES) as [DashboardRange, ...DashboardRange[]]),
    days: z.array(daySchema),
    circulation: z.number(),
    escrowHeld: z.number(),
    openOrders: z.number(),
    topItems: z.array(
      z.object({ itemKey: z.string(), name: z.string(), units: z.number(), volume: z.number() }),
    ),
    throughTransferId: z.string(),
  })
  .meta({ id: 'Dashboard' });

/** GET /api/dashboard: the economy at a glance, from the worker's rollups. */
export function dashboardRoutes(deps: AppDeps) {
  return apiGroup().openapi(
    createRoute({
      method: 'get',
      path: '/dashboard',
      summary:
        'Circulation, minted and burned, active players, transfers, market volume and fees per UTC day',
      request: {
        query: z.object({
          range: z.enum(Object.keys(DASHBOARD_RANGES) as [DashboardRange, ...DashboardRange[]]).default('7d'),
        }),
      },
      responses: jsonResponse(dashboardSchema, 'The dashboard'),
    }),
    async (c) =>
      c.json(await dashboard(deps.db, c.get('actor'), c.req.valid('query').range, deps.now()), 200),
  );
}

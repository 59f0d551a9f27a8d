import { once } from 'node:events';
import { Hono } from 'hono';
import { sql } from 'kysely';
import type { AppDeps, AppEnv } from './context.ts';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);

/** /healthz: the process is alive. /readyz: Postgres and Redis answer; 503 names the one that does not. */
export function healthRoutes(deps: AppDeps) {
  const checks: Record<string, () => Promise<unknown>> = {
    postgres: () => sql`select 1`.execute(deps.db),
    redis: async () => {
      // The command connection refuses commands until it is connected; give a fresh one a moment.
      if (deps.redis.status !== 'ready') await once(deps.redis, 'ready');
      return deps.redis.ping();
    },
  };
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ ok: true }))
    .get('/readyz', async (c) => {
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(check(), 2000);
            return [name, 'ok'] as const;
          } catch {
            return [name, 'unreachable'] as const;
          }
        }),
      );
      const failed = results.filter(([, state]) => state !== 'ok').map(([name]) => name);
      const body = { ok: failed.length === 0, checks: Object.fromEntries(results), failed };
      return c.json(body, failed.length === 0 ? 200 : 503);
    });
}

import { Hono } from 'hono';
import { sql } from 'kysely';
import type { AppDeps, AppEnv } from './context.ts';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);

/**
 * /healthz: the process is alive. /readyz: Postgres and Redis answer and start-up is done; 503 names what is
 * not (`postgres`, `redis`, or a start-up step such as `migrations`).
 */
export function healthRoutes(deps: AppDeps) {
  const checks: Record<string, () => Promise<unknown>> = {
    postgres: () => sql`select 1`.execute(deps.db),
    redis: async () => {
      // The command connection refuses commands until it is connected; give a fresh one a moment.
      for (let i = 0; i < 10 && deps.redis.status !== 'ready'; i++)
        await new Promise((r) => setTimeout(r, 100));
      return deps.redis.ping();
    },
  };
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ ok: true }))
    .get('/readyz', async (c) => {
      const reached = await Promise.all(
        Object.entries(checks).map(async ([name, check]): Promise<[string, string]> => {
          try {
            await withTimeout(check(), 2000);
            return [name, 'ok'];
          } catch {
            return [name, 'unreachable'];
          }
        }),
      );
      const starting = (deps.startup?.pending() ?? []).map((step): [string, string] => [step, 'pending']);
      const results = [...reached, ...starting];
      const failed = results.filter(([, state]) => state !== 'ok').map(([name]) => name);
      const body = { ok: failed.length === 0, checks: Object.fromEntries(results), failed };
      return c.json(body, failed.length === 0 ? 200 : 503);
    });
}

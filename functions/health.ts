import { once } from 'node:events';
import { Hono } from 'hono';
import { sql } from 'kysely';
import type { AppDeps, AppEnv } from './context.ts';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);

/** How long one readiness result answers /readyz: probes then cost one query a second, not one per request. */
export const READINESS_TTL_MS = 1000;

interface Readiness {
  ok: boolean;
  checks: Record<string, 'ok' | 'unreachable'>;
  failed: string[];
}

/**
 * /healthz: the process is alive. /readyz: Postgres and Redis answer; 503 names the one that does not. Both are
 * for the container healthcheck and the internal network: the proxy does not route them. A readiness result is
 * reused for READINESS_TTL_MS, and concurrent requests share the check in flight, so probes never load the
 * shared pool.
 */
export function healthRoutes(deps: AppDeps) {
  const checks: Record<string, () => Promise<unknown>> = {
    postgres: () => sql`select 1`.execute(deps.db),
    redis: async () => {
      // The command connection refuses commands until it is connected; give a fresh one a moment.
      if (deps.redis.status !== 'ready') await once(deps.redis, 'ready');
      return deps.redis.ping();
    },
  };
  const check = async (): Promise<Readiness> => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, probe]) => {
        try {
          await withTimeout(probe(), 2000);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unreachable'] as const;
        }
      }),
    );
    const failed = results.filter(([, state]) => state !== 'ok').map(([name]) => name);
    return { ok: failed.length === 0, checks: Object.fromEntries(results), failed };
  };
  let cached: { at: number; result: Promise<Readiness> } | undefined;
  const readiness = () => {
    const now = Date.now();
    if (!cached || now - cached.at >= READINESS_TTL_MS) cached = { at: now, result: check() };
    return cached.result;
  };
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ ok: true }))
    .get('/readyz', async (c) => {
      const body = await readiness();
      return c.json(body, body.ok ? 200 : 503);
    });
}

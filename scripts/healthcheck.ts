/**
 * Container healthcheck (the Dockerfile's HEALTHCHECK runs `node dist/scripts/healthcheck.js`): exit 0 when the
 * process of this container's ROLE is healthy, 1 otherwise, with one line saying why.
 * api: GET /readyz on the local port answers 200. worker: the heartbeat file is fresh. all: both.
 */
import { configOrExit } from '../config/env.ts';
import { HEARTBEAT_STALE_INTERVALS, readHeartbeat } from '../jobs/heartbeat.ts';

const READYZ_TIMEOUT_MS = 3000;

async function checkApi(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
      signal: AbortSignal.timeout(READYZ_TIMEOUT_MS),
    });
    if (res.ok) return undefined;
    const body = (await res.json().catch(() => ({}))) as { failed?: string[] };
    return `/readyz answered ${res.status}${body.failed?.length ? ` (unreachable: ${body.failed.join(', ')})` : ''}`;
  } catch (err) {
    return `/readyz did not answer: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function checkWorker(file: string, intervalS: number): Promise<string | undefined> {
  const beat = await readHeartbeat(file, intervalS * 1000 * HEARTBEAT_STALE_INTERVALS);
  return beat.fresh ? undefined : `worker heartbeat: ${beat.problem}`;
}

async function main(): Promise<number> {
  const cfg = configOrExit();
  if (cfg.ROLE === 'migrate') {
    console.log('healthy: migrate is a one-shot role; its exit code is its health');
    return 0;
  }
  const problems = await Promise.all([
    cfg.ROLE === 'worker' ? undefined : checkApi(cfg.PORT),
    cfg.ROLE === 'api' ? undefined : checkWorker(cfg.WORKER_HEARTBEAT_FILE, cfg.WORKER_HEARTBEAT_S),
  ]);
  const failed = problems.filter((p): p is string => p !== undefined);
  if (failed.length > 0) {
    console.log(`unhealthy (${cfg.ROLE}): ${failed.join('; ')}`);
    return 1;
  }
  console.log(`healthy (${cfg.ROLE})`);
  return 0;
}

process.exitCode = await main();

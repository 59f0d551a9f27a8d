import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';

/** The server runs compiled, as in the Docker image; BENCH_TSX=1 runs the TypeScript entry through tsx instead. */
const BUILD_DIR = '.dev/bench-dist';
/** BENCH_CPU_PROF=<dir> writes each server process's V8 CPU profile there when it stops. */
const CPU_PROF = process.env.BENCH_CPU_PROF;

/** The node arguments that start the server entry point for a benchmark (compiled unless BENCH_TSX=1). */
export function serverEntry(): string[] {
  const profile = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [];
  if (process.env.BENCH_TSX === '1') return [...profile, '--import', 'tsx', 'functions/server.ts'];
  console.log(`compiling to ${BUILD_DIR}…`);
  rmSync(BUILD_DIR, { recursive: true, force: true });
  try {
    execFileSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR],
      {
        stdio: 'pipe',
      },
    );
  } catch (err) {
    // Type errors still emit JavaScript; only a missing entry point is fatal.
    if (!existsSync(`${BUILD_DIR}/functions/server.js`)) throw err;
  }
  return [...profile, `${BUILD_DIR}/functions/server.js`];
}

/** The environment every benchmark's server starts with: production mode, API and worker in one process. */
export const benchServerEnv = (databaseUrl: string, redisUrl: string, redisPrefix: string) => ({
  NODE_ENV: 'production',
  ROLE: 'all',
  LOG_LEVEL: 'warn',
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  REDIS_PREFIX: redisPrefix,
});

/** Removes a run's Redis keys (queues, rate-limit counters, tokens) under `prefix`. */
export async function dropRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const stream = redis.scanStream({ match: `${prefix}:*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>)
      if (keys.length > 0) await redis.unlink(...keys);
  } finally {
    redis.disconnect();
  }
}

/** A request body with its headers (signed for the route under test). */
export interface Prepared {
  body: string;
  headers: Record<string, string>;
}

/**
 * POSTs `bodies` in turn (round robin) to `url` from `connections` concurrent connections for `seconds`; the
 * requests per second, p99 latency, outcome counts and how many bodies were sent.
 */
export async function loadPosts(url: string, bodies: Prepared[], connections: number, seconds: number) {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const b = bodies[next++ % bodies.length]!;
          return { ...req, body: b.body, headers: b.headers };
        },
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
    used: next,
  };
}

/** Runs a benchmark's `main`, drops its Redis keys whatever happens, and exits 0 or 1 (printing the error). */
export function runBench(main: () => Promise<void>, redisUrl: string, prefix: string): void {
  main()
    .finally(() => dropRedisKeys(redisUrl, prefix))
    .then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
}

/**
 * npm run bench:api — the panel API over 100,000 users and 1,000,000 transfers (BENCH_USERS, BENCH_TRANSFERS).
 * The API runs as its own process (scripts/bench-api-server.ts); this one seeds, drives and measures:
 * dashboard and user-search latency, then BENCH_SSE_CLIENTS stream clients while transfers are made at
 * BENCH_TPS through the ledger and published by the feed relay, timing each event from the transfer's
 * creation to its arrival. RSS is the API process's peak.
 * Last line: {"dashboard_p99_ms":..,"search_p99_ms":..,"sse_clients":..,"sse_delivery_p99_ms":..,"rss_mb":..}
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { parseConfig } from '../config/env.ts';
import { createLogger } from '../config/logger.ts';
import { createDb } from '../db/client.ts';
import { createRedis } from '../db/redis.ts';
import { createDiscordRest } from '../discord/rest.ts';
import { Ledger, SYSTEM_ACCOUNTS } from '../economy/ledger.ts';
import { rollupStats } from '../economy/stats.ts';
import { handleFeedRelay } from '../jobs/handlers/feed-relay.ts';
import { insertUsers } from '../tests/helpers/seed.ts';
import { BENCH_PG, freshDatabase } from './bench-db.ts';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 1_000_000);
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 1000);
const TPS = Number(process.env.BENCH_TPS ?? 100);
const SSE_SECONDS = Number(process.env.BENCH_SSE_SECONDS ?? 15);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = 8;
const PORT = Number(process.env.BENCH_PORT ?? 8799);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]! * 10) / 10;
};
const p99 = (xs: number[]) => quantile(xs, 0.99);

/** Transfers spread over the last 90 days, mint to a user, straight into the tables (the ledger's own
 * benchmark measures the ledger; this one needs the history fast). Balances are set to match. */
async function seedTransfers(db: ReturnType<typeof createDb>, firstUser: string, lastUser: string) {
  const CHUNK = 100_000;
  for (let start = 0; start < TRANSFERS; start += CHUNK) {
    await sql`
      insert into transfers (idempotency_key, debit_account_id, credit_account_id, amount, phase, state, reason,
                             actor_id, credit_balance_after, created_at)
      select 'bench:' || g, 1, u, 1 + g % 100, 'single', 'posted',
             case when g % 3 = 0 then 'pay' else 'daily' end, u, 0,
             now() - ((g % 90) || ' days')::interval - ((g % 86400) || ' seconds')::interval
      from generate_series(${start + 1}::bigint, ${Math.min(start + CHUNK, TRANSFERS)}::bigint) g
      cross join lateral (select ${firstUser}::bigint + (g * 7919) % (${lastUser}::bigint - ${firstUser}::bigint + 1) as u) pick`.execute(
      db,
    );
  }
  await sql`
    update accounts a set balance = s.total
    from (select credit_account_id as id, sum(amount) as total from transfers group by 1) s
    where a.id = s.id and a.kind = 'user'`.execute(db);
  await sql`insert into feed_cursors (consumer, last_id) select 'redis', max(id) from transfers
            on conflict (consumer) do update set last_id = excluded.last_id`.execute(db);
  await sql`insert into feed_cursors (consumer, last_id) select 'discord', max(id) from transfers
            on conflict (consumer) do update set last_id = excluded.last_id`.execute(db);
  while ((await rollupStats(db, 200_000)) > 0);
}

function getJson(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(performance.now() - started)
            : reject(new Error(`${url}: ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

async function latencies(n: number, url: (i: number) => string): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) out.push(await getJson(url(next++)));
    }),
  );
  return out;
}

/** Opens a stream client that records, for every event, milliseconds since the transfer was created. */
function openStream(base: string, delays: number[], counts: { events: number }): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/api/tx/stream`, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream: ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const arrived = Date.now();
        for (let at = chunk.indexOf('"at":"'); at >= 0; at = chunk.indexOf('"at":"', at + 6)) {
          delays.push(arrived - Date.parse(chunk.slice(at + 6, at + 30)));
          counts.events++;
        }
      });
      resolve(req);
    });
    req.on('error', reject);
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

async function main() {
  // BENCH_REUSE=1 measures again on the database a previous run seeded (seeding takes minutes).
  const reuse = process.env.BENCH_REUSE === '1';
  const url = reuse ? `${BENCH_PG}/coinhub_bench_api` : await freshDatabase('coinhub_bench_api');
  const db = createDb(url, 8);
  const seedStart = performance.now();
  let users: { id: string }[];
  if (reuse) {
    users = await db.selectFrom('users').select('id').orderBy('id').execute();
  } else {
    users = await insertUsers(db, USERS, 300_000_000_000_000_000n);
    await seedTransfers(db, users[0]!.id, users.at(-1)!.id);
    await sql`vacuum analyze`.execute(db);
    await sql`checkpoint`.execute(db);
  }
  const seconds = Math.round((performance.now() - seedStart) / 1000);
  console.log(
    JSON.stringify({
      phase: reuse ? 'reused' : 'seeded',
      users: users.length,
      transfers: TRANSFERS,
      seconds,
    }),
  );

  const prefix = `bench-api-${Date.now()}`;
  const env = {
    PATH: process.env.PATH,
    DATABASE_URL: url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    PORT: String(PORT),
    BENCH_USER_ID: users[0]!.id,
    NODE_ENV: 'production',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-api-server.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`API process exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${PORT}`;
  let peakRss = rssMb(child.pid!);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(child.pid!))), 250);

  try {
    await latencies(200, () => `${base}/api/dashboard?range=90d`); // warm-up
    const ranges = ['7d', '30d', '90d'];
    const dashboard = await latencies(REQUESTS, (i) => `${base}/api/dashboard?range=${ranges[i % 3]}`);
    console.log(JSON.stringify({ phase: 'dashboard', p50: quantile(dashboard, 0.5), p99: p99(dashboard) }));
    const search = await latencies(REQUESTS, (i) => `${base}/api/users?q=user${(i * 7919) % USERS}`);
    console.log(JSON.stringify({ phase: 'search', p50: quantile(search, 0.5), p99: p99(search) }));

    const cfg = parseConfig({
      DATABASE_URL: url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
      GUILD_ID: '690000000000000099',
    });
    const redis = createRedis(REDIS_URL, 'command', 'bench-relay');
    const log = createLogger('warn', 'bench-relay');
    const relayDeps = { cfg, db, redis, rest: createDiscordRest(cfg), log };
    // A reused database may hold transfers an earlier run made but never published: publish them first.
    await handleFeedRelay(relayDeps, 1000);

    const delays: number[] = [];
    const counts = { events: 0 };
    const streams: http.ClientRequest[] = [];
    for (let i = 0; i < SSE_CLIENTS; i++) streams.push(await openStream(base, delays, counts));
    console.log(JSON.stringify({ phase: 'sse-connected', clients: streams.length }));

    const ledger = new Ledger(db);
    const deadline = Date.now() + SSE_SECONDS * 1000;
    const relay = (async () => {
      while (Date.now() < deadline + 2000) await handleFeedRelay(relayDeps, 1000);
    })();
    let made = 0;
    const run = Date.now();
    while (Date.now() < deadline) {
      const due = Math.floor(((Date.now() - run) / 1000) * TPS);
      const batch: Promise<unknown>[] = [];
      for (; made < due; made++) {
        batch.push(
          ledger.transfer({
            key: `sse:${run}:${made}`,
            debit: SYSTEM_ACCOUNTS.mint,
            credit: users[made % USERS]!.id,
            amount: 1,
            reason: 'bench',
          }),
        );
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 10));
    }
    await relay;
    await new Promise((r) => setTimeout(r, 2000)); // events still on their way to the clients
    const expected = made * streams.length;
    console.log(
      JSON.stringify({
        phase: 'sse',
        transfers: made,
        events: counts.events,
        expected,
        p50: quantile(delays, 0.5),
      }),
    );
    console.log(
      JSON.stringify({
        phase: 'load',
        loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      }),
    );
    for (const s of streams) s.destroy();
    await redis.quit();

    clearInterval(sampler);
    console.log(
      JSON.stringify({
        dashboard_p99_ms: p99(dashboard),
        search_p99_ms: p99(search),
        sse_clients:
          counts.events >= expected ? streams.length : Math.floor(counts.events / Math.max(made, 1)),
        sse_delivery_p99_ms: p99(delays),
        rss_mb: peakRss,
      }),
    );
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    agent.destroy();
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

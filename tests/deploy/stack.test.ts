/**
 * The compose stack's own commands, run as processes on this machine (no Docker engine here): the image's build
 * and production install, then `node dist/functions/server.js` with ROLE=migrate once, two ROLE=api on different ports and two
 * ROLE=worker, all against one fresh Postgres database (created by migrate) and one Redis prefix, with secrets read
 * from files as Docker secrets are. The healthcheck command the Dockerfile and compose use runs against them too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.ts';
import { createDb, type Db } from '../../db/client.ts';
import { createRedis } from '../../db/redis.ts';
import { ledgerCheckJob, setupGuildJob } from '../../jobs/definitions.ts';
import { Queues } from '../../jobs/queues.ts';
import { FakeDiscordApi } from '../fakes/discord-api.ts';
import { createDiscordSigner } from '../helpers/discord-signer.ts';
import { REDIS_URL, databaseUrl } from '../helpers/env.ts';
import {
  TEST_APPLICATION_ID,
  TEST_GUILD_ID,
  buttonClick,
  ping,
  slashCommand,
} from '../helpers/interactions.ts';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process.ts';
import { until } from '../helpers/wait.ts';
import { ROOT } from './compose-check.ts';
import { plainRequest as request } from './http.ts';

const ROOT_DIR = fileURLToPath(ROOT);
const BOT_TOKEN = 'stack-bot-token.abc.def';
const run = randomBytes(5).toString('hex');
const DB_NAME = `coinhub_deploy_${run}`;
const REDIS_PREFIX = `test:deploy:${run}`;
// The runtime stage's layout: /app/package.json, /app/node_modules (production dependencies only), /app/dist.
const APP_DIR = mkdtempSync(path.join(tmpdir(), 'coinhub-app-'));
const entry = (file: string) => path.join(APP_DIR, 'dist', file);

const signer = createDiscordSigner();
const scratch = mkdtempSync(path.join(tmpdir(), 'coinhub-stack-'));
let discord: FakeDiscordApi;
let apis: ServerProcess[] = [];
const workers: {
  child: ChildProcess;
  heartbeat: string;
  output: () => string;
  exited: Promise<number | null>;
}[] = [];
let db: Db;

/** The environment compose gives every app container, with secrets as files. */
function stackEnv(): Record<string, string> {
  const secret = (name: string, value: string) => {
    const file = path.join(scratch, name);
    writeFileSync(file, `${value}\n`, { mode: 0o444 });
    return file;
  };
  return {
    PATH: process.env.PATH!,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl(DB_NAME),
    // The local server trusts every local connection; this proves the file is read and accepted.
    DATABASE_PASSWORD_FILE: secret('postgres_password', 'stack-db-password'),
    DATABASE_POOL_MAX: '4',
    REDIS_URL,
    REDIS_PREFIX,
    DISCORD_PUBLIC_KEY: signer.publicKeyHex,
    DISCORD_API_BASE: discord.url,
    DISCORD_CLIENT_ID: TEST_APPLICATION_ID,
    GUILD_ID: TEST_GUILD_ID,
    DISCORD_TOKEN_FILE: secret('discord_token', BOT_TOKEN),
    JWT_SECRET_FILE: secret('jwt_secret', randomBytes(32).toString('hex')),
    SESSION_SECRET_FILE: secret('session_secret', randomBytes(32).toString('hex')),
    // Never due during the test, so every ledger check below is one we enqueued.
    LEDGER_CHECK_CRON: '0 0 1 1 *',
    RATE_LIMIT_ACTIONS: '4',
    RATE_LIMIT_WINDOW_S: '60',
  };
}

function spawnRole(role: 'migrate' | 'worker', env: Record<string, string>) {
  const child = spawn(process.execPath, [entry('functions/server.js')], {
    cwd: APP_DIR,
    env: { ...stackEnv(), ...env, ROLE: role },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

/** The container healthcheck, as the Dockerfile and compose run it. */
function healthcheck(env: Record<string, string>) {
  const result = spawnSync(process.execPath, [entry('scripts/healthcheck.js')], {
    cwd: APP_DIR,
    env: { ...stackEnv(), ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}`.trim() };
}

const workersOutput = () => workers.map((w) => w.output()).join('\n');

/** Polls `probe` with the workers' output in the timeout error. */
const waitFor = <T>(probe: () => Promise<T | undefined> | T | undefined, what: string) =>
  until(what, probe, 30_000, workersOutput);

/** BullMQ's view of the stack's queues, for waiting until the workers have finished what was enqueued. */
async function withQueues<T>(fn: (queues: Queues) => Promise<T>): Promise<T> {
  const redis = createRedis(REDIS_URL, 'command', 'deploy-test');
  const queues = new Queues(redis, `${REDIS_PREFIX}:bull`, createLogger('silent'));
  try {
    return await fn(queues);
  } finally {
    await queues.close();
    redis.disconnect();
  }
}

async function ledgerChecks(): Promise<number> {
  const { n } = await db
    .selectFrom('ledger_checks')
    .select((e) => e.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

async function adminQuery(text: string) {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    return await admin.query(text);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  // The Dockerfile's steps: the build stage's `npm run build` (with every dependency, here the repository's), and
  // the runtime stage's `npm ci --omit=dev` beside the compiled code, so a runtime import of a devDependency fails.
  const build = spawnSync('npm', ['run', 'build', '--', '--outDir', path.join(APP_DIR, 'dist')], {
    cwd: ROOT_DIR,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  for (const file of ['package.json', 'package-lock.json'])
    copyFileSync(path.join(ROOT_DIR, file), path.join(APP_DIR, file));
  const install = spawnSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: APP_DIR,
    encoding: 'utf8',
  });
  if (install.status !== 0) throw new Error(`npm ci --omit=dev failed:\n${install.stdout}${install.stderr}`);
  discord = await FakeDiscordApi.start({ token: BOT_TOKEN, botUserId: TEST_APPLICATION_ID });
  discord.addGuild(TEST_GUILD_ID, [{ id: '910000000000000001', name: 'general' }]);
}, 300_000);

afterAll(async () => {
  await Promise.all(apis.map((a) => a.stop()));
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await db?.destroy();
  await discord?.close();
  await adminQuery(`drop database if exists ${DB_NAME} with (force)`);
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${REDIS_PREFIX}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  rmSync(APP_DIR, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('the compose stack, run as processes', () => {
  it('migrate creates the database, applies every migration, exits 0, and is idempotent', async () => {
    const exists = async () =>
      (await adminQuery(`select 1 from pg_database where datname = '${DB_NAME}'`)).rowCount === 1;
    expect(await exists()).toBe(false);
    const first = spawnRole('migrate', {});
    expect(await first.exited, first.output()).toBe(0);
    expect(first.output()).toContain('created database');
    expect(first.output()).toContain('migration applied');
    expect(await exists()).toBe(true);

    const again = spawnRole('migrate', {});
    expect(await again.exited, again.output()).toBe(0);
    expect(again.output()).toContain('database is up to date');
    expect(healthcheck({ ROLE: 'migrate' }).code).toBe(0);
    db = createDb(databaseUrl(DB_NAME), 2);
  });

  it('two api and two worker processes start, answer /readyz and pass the container healthcheck', async () => {
    apis = await Promise.all(
      [0, 1].map(async () =>
        startServer(
          { ...stackEnv(), ROLE: 'api' },
          { entry: [entry('functions/server.js')], timeoutMs: 60_000 },
        ),
      ),
    );
    expect(apis[0]!.port).not.toBe(apis[1]!.port);
    for (const n of [0, 1]) {
      const heartbeat = path.join(scratch, `heartbeat-${n}`);
      workers.push({
        heartbeat,
        ...spawnRole('worker', { WORKER_HEARTBEAT_FILE: heartbeat, WORKER_HEARTBEAT_S: '1' }),
      });
    }

    for (const api of apis) {
      const res = await request(`${api.url}/readyz`);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ ok: true, checks: { postgres: 'ok', redis: 'ok' } });
      expect(healthcheck({ ROLE: 'api', PORT: String(api.port) })).toEqual({ code: 0, out: 'healthy (api)' });
    }
    for (const w of workers) {
      await waitFor(
        () =>
          healthcheck({ ROLE: 'worker', WORKER_HEARTBEAT_FILE: w.heartbeat, WORKER_HEARTBEAT_S: '1' })
            .code === 0
            ? true
            : undefined,
        'worker heartbeat',
      );
    }

    const nobody = await freePort();
    const down = healthcheck({ ROLE: 'api', PORT: String(nobody) });
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/^unhealthy \(api\): \/readyz did not answer/);
    const missing = healthcheck({ ROLE: 'worker', WORKER_HEARTBEAT_FILE: path.join(scratch, 'none') });
    expect(missing).toMatchObject({ code: 1, out: expect.stringContaining('no heartbeat at') });
  });

  it('both apis answer a signed PING and refuse an unsigned one', async () => {
    const body = JSON.stringify(ping());
    for (const api of apis) {
      const res = await request(`${api.url}/interactions`, { body, headers: signer.signedHeaders(body) });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ type: 1 });
      const forged = await request(`${api.url}/interactions`, {
        body,
        headers: { ...signer.signedHeaders(body), 'x-signature-timestamp': '1' },
      });
      expect(forged.status).toBe(401);
    }
  });

  it('a player is one player on every replica: one daily claim, one rate limit', async () => {
    const player = { id: '500000000000000001', username: 'alex' };
    const send = async (api: ServerProcess, payload: unknown) => {
      const body = JSON.stringify(payload);
      return (
        await request(`${api.url}/interactions`, { body, headers: signer.signedHeaders(body) })
      ).json() as {
        data: { flags: number; content?: string; embeds?: { title: string }[] };
      };
    };
    const first = await send(apis[0]!, slashCommand('daily', player));
    expect(first.data).toMatchObject({
      flags: 64,
      embeds: [expect.objectContaining({ title: '+100 coins' })],
    });
    const again = await send(apis[1]!, slashCommand('daily', player));
    expect(again.data.flags).toBe(64);
    expect(again.data.embeds?.[0]?.title).not.toBe('+100 coins');
    const dailies = await db
      .selectFrom('transfers')
      .innerJoin('users', 'users.id', 'transfers.credit_account_id')
      .where('users.discord_id', '=', player.id)
      .where('transfers.reason', '=', 'daily')
      .select('transfers.amount')
      .execute();
    expect(dailies).toHaveLength(1);

    // Two actions so far (RATE_LIMIT_ACTIONS=4): two more pass, alternating replicas; the fifth is limited.
    for (const api of [apis[0]!, apis[1]!])
      expect((await send(api, buttonClick('hub:help', player))).data.embeds?.[0]?.title).toBe(
        'How Coinhub works',
      );
    const limited = await send(apis[0]!, buttonClick('hub:help', player));
    expect(limited.data).toMatchObject({ flags: 64, content: expect.stringMatching(/slow down/i) });
  });

  it('a job enqueued by one api is handled exactly once across the two workers', async () => {
    const admin = { id: '400000000000000001', username: 'boss', admin: true };
    const payload = slashCommand('setup', admin);
    const body = JSON.stringify(payload);
    const res = await request(`${apis[1]!.url}/interactions`, { body, headers: signer.signedHeaders(body) });
    expect(res.json()).toEqual({ type: 5, data: { flags: 64 } });

    const edits = await waitFor(() => discord.responseEdits.get(payload.token), 'the deferred response edit');
    // Count once the queue holds nothing waiting, running or due for a retry: a completed job never runs again.
    await withQueues((queues) =>
      waitFor(async () => {
        const counts = await queues
          .get(setupGuildJob.queue)
          .getJobCounts('active', 'wait', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0) || undefined;
      }, 'the setup job to complete'),
    );
    expect(edits).toHaveLength(1);
    expect((edits[0] as { content: string }).content).toMatch(/Coinhub is set up/);
    expect(discord.callsTo('POST', /\/guilds\/\d+\/channels$/)).toHaveLength(4);
    expect(discord.problems).toEqual([]);
    for (const call of discord.calls.filter((c) => !c.path.includes('/webhooks/')))
      expect(call.authorization).toBe(`Bot ${BOT_TOKEN}`);
  });

  it('a batch of queued jobs is shared by the workers and each runs once', async () => {
    const before = await ledgerChecks();
    const JOBS = 12;
    const ids = Array.from({ length: JOBS }, (_, i) => `deploy-check-${run}-${i}`);
    await withQueues(async (queues) => {
      for (const jobId of ids) await queues.enqueue(ledgerCheckJob, {}, { jobId });
      // The same job id again is the same job: BullMQ keeps one.
      await queues.enqueue(ledgerCheckJob, {}, { jobId: ids[0] });
      // Count once every job has completed: a completed job never runs again.
      const queue = queues.get(ledgerCheckJob.queue);
      await waitFor(async () => {
        const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
        return states.every((s) => s === 'completed') || undefined;
      }, 'the ledger check jobs to complete');
    });
    expect(await ledgerChecks()).toBe(before + JOBS);
    const handled = workers.map(
      (w) =>
        w
          .output()
          .split('\n')
          .filter((l) => l.includes('ledger check passed')).length,
    );
    expect(handled.reduce((a, b) => a + b, 0)).toBe(JOBS);
  });

  it('stops cleanly on SIGTERM, and a stopped worker fails its healthcheck', async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes).toEqual([0, 0]);
    const stale = healthcheck({
      ROLE: 'worker',
      WORKER_HEARTBEAT_FILE: workers[0]!.heartbeat,
      WORKER_HEARTBEAT_S: '1',
    });
    expect(stale).toMatchObject({ code: 1, out: expect.stringContaining('no heartbeat at') });
    const apiCodes = await Promise.all(apis.map((a) => a.stop()));
    expect(apiCodes).toEqual([0, 0]);
    apis = [];
  });
});

/**
 * Start-up and shutdown as an operator sees them: with Redis or Postgres down the process still listens and
 * /readyz names what is down, reconnects back off, and the worker starts once Redis is back; a busy port is one
 * line before anything starts; the all-zero key is refused; `npm start` passes SIGTERM on; without a bot token
 * Discord jobs wait.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopRefreshJob } from '../../jobs/definitions.ts';
import { slashCommand } from '../../playground/interactions.ts';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { startInteractionServer } from '../helpers/interaction-server.ts';
import { freePort } from '../helpers/server-process.ts';
import { until, waitFor } from '../helpers/wait.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KEY = 'cd'.repeat(32);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db?.drop();
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(
  env: Record<string, string>,
  command = [process.execPath, '--import', 'tsx', 'functions/server.ts'],
): Started {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function readyz(port: number): Promise<{ status: number; failed: string[] } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    const body = (await res.json()) as { failed: string[] };
    return { status: res.status, failed: body.failed };
  } catch {
    return undefined;
  }
}

/** A TCP forwarder to the real Redis that can be switched off and on, to play a Redis outage. */
async function redisSwitch() {
  const port = await freePort();
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    async up() {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => (client.destroy(), upstream.destroy());
        client.on('error', drop);
        upstream.on('error', drop);
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
    async down() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

describe('start-up', () => {
  it('listens with Redis down, says so on /readyz, backs off, and starts the worker when Redis comes back', async () => {
    const redis = await redisSwitch();
    const port = await freePort();
    const app = start({
      PORT: String(port),
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: testRedisPrefix(),
      DISCORD_PUBLIC_KEY: KEY,
    });
    try {
      const down = await until('a 503 naming redis', async () => {
        const r = await readyz(port);
        return r?.status === 503 && r.failed.includes('redis') ? r : undefined;
      });
      expect(down.failed).toEqual(expect.arrayContaining(['redis', 'worker']));
      await new Promise((r) => setTimeout(r, 6000));
      const attempts = app.output().match(/Redis is unreachable/g) ?? [];
      // Tries after 0, 2 and 6 s: backing off, not eight lines a second.
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts.length).toBeLessThanOrEqual(4);
      expect((app.output().match(/queue error/g) ?? []).length).toBeLessThanOrEqual(1);
      expect(app.output()).not.toContain('worker started');

      await redis.up();
      await until(
        '/readyz 200 once Redis is back',
        async () => (await readyz(port))?.status === 200 || undefined,
        40_000,
      );
      expect(app.output()).toContain('worker started');
    } finally {
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      await redis.down();
    }
  });

  it('listens with Postgres down and names it and the pending migrations', async () => {
    const port = await freePort();
    const app = start({
      PORT: String(port),
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`,
      REDIS_URL,
      REDIS_PREFIX: testRedisPrefix(),
      DISCORD_PUBLIC_KEY: KEY,
    });
    try {
      const down = await until('a 503 naming postgres', async () => {
        const r = await readyz(port);
        return r?.status === 503 ? r : undefined;
      });
      expect(down.failed).toEqual(expect.arrayContaining(['postgres', 'migrations']));
      await waitFor(() => app.output().includes('Postgres is unreachable'), 5000);
      expect(app.output()).toContain(`listening on http://localhost:${port}`);
    } finally {
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
    }
  });

  it('refuses a busy port with one line, before migrating or starting the worker', async () => {
    const busy = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, '0.0.0.0', resolve));
    try {
      const app = start({
        PORT: String(port),
        DATABASE_URL: db.url,
        REDIS_URL,
        REDIS_PREFIX: testRedisPrefix(),
        DISCORD_PUBLIC_KEY: KEY,
      });
      expect(await app.exited).toBe(1);
      expect(app.output().trim().split('\n')).toEqual([
        `coinhub: port ${port} is already in use; stop what listens there or set PORT to another port`,
      ]);
    } finally {
      busy.close();
    }
  });

  it('refuses the all-zero placeholder key outside tests', async () => {
    const app = start({
      NODE_ENV: 'development',
      DATABASE_URL: db.url,
      REDIS_URL,
      DISCORD_PUBLIC_KEY: '0'.repeat(64),
    });
    expect(await app.exited).toBe(1);
    expect(app.output().trim().split('\n')).toEqual([
      expect.stringMatching(/^coinhub: configuration error: DISCORD_PUBLIC_KEY is the all-zero placeholder/),
    ]);
  });

  it('npm start passes SIGTERM on to the server, so nothing keeps running', async () => {
    const port = await freePort();
    const app = start(
      {
        PORT: String(port),
        DATABASE_URL: db.url,
        REDIS_URL,
        REDIS_PREFIX: testRedisPrefix(),
        DISCORD_PUBLIC_KEY: KEY,
      },
      ['npm', 'start', '--silent'],
    );
    await until('listening', async () => (await readyz(port))?.status === 200 || undefined, 40_000);
    app.child.kill('SIGTERM');
    await app.exited;
    expect(app.output()).toContain('stopped');
    expect(await readyz(port)).toBeUndefined();
  });
});

describe('without DISCORD_TOKEN', () => {
  it('warns once at start, answers interactions, and keeps Discord jobs waiting instead of failing them', async () => {
    const rig = await startInteractionServer({ env: { DISCORD_TOKEN: '', LOG_LEVEL: 'info' } });
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('market', { connection, prefix: `${rig.redisPrefix}:bull` });
    try {
      // /setup says at once that it needs the token; a job another action enqueued waits for it.
      const { body } = await rig.send(
        slashCommand('setup', { id: '700000000000000031', admin: true }, {}, 'channels'),
      );
      expect(JSON.stringify(body)).toContain('DISCORD_TOKEN');
      const job = await queue.add(shopRefreshJob.name, { listingId: '1' }, shopRefreshJob.options);
      await until('the shop refresh to wait', async () => (await job.getState()) === 'delayed' || undefined);
      await new Promise((r) => setTimeout(r, 1500));
      const out = rig.server.output();
      expect(out.match(/DISCORD_TOKEN is not set/g)).toHaveLength(1);
      expect(out).not.toMatch(/job failed|Expected token/);
      expect(await queue.getFailedCount()).toBe(0);
      expect((await queue.getJob(job.id!))?.attemptsMade).toBe(0);
      expect(rig.discord.calls).toEqual([]);
    } finally {
      await queue.close();
      connection.disconnect();
      await rig.stop();
    }
  });
});

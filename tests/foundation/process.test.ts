/**
 * The entry points as processes: `npm start` with only the three required variables creates the database,
 * migrates and serves; migrate is idempotent and fails loudly; ledger:check reports and exits by the
 * ledger's state; the worker's reconciliation job records every check; SIGTERM stops cleanly.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.ts';
import { createDb } from '../../db/client.ts';
import { createRedis } from '../../db/redis.ts';
import { ledgerCheckJob } from '../../jobs/definitions.ts';
import { Queues } from '../../jobs/queues.ts';
import { testRedisPrefix } from '../helpers/db.ts';
import { databaseUrl, REDIS_URL, testDbName } from '../helpers/env.ts';
import { startServer } from '../helpers/server-process.ts';
import { until } from '../helpers/wait.ts';

const KEY = 'ab'.repeat(32);
// The standalone migrate reads the whole configuration, which needs GUILD_ID outside tests.
const GUILD_ID = '123456789012345678';
const created: string[] = [];

function run(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  for (const name of created) await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.end();
});

describe('npm start', () => {
  it('creates the database, migrates, serves, runs the reconciliation job and stops on SIGTERM', async () => {
    const name = testDbName('start');
    created.push(name);
    const prefix = testRedisPrefix();
    const server = await startServer({
      DATABASE_URL: databaseUrl(name),
      REDIS_URL,
      DISCORD_PUBLIC_KEY: KEY,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'info',
    });
    const db = createDb(databaseUrl(name), 2);
    const redis = createRedis(REDIS_URL, 'command', 'process-test');
    const queues = new Queues(redis, `${prefix}:bull`, createLogger('silent'));
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(server.output()).toContain('created database');

      await queues.enqueue(ledgerCheckJob, {});
      const good = await until(
        'the first ledger check',
        async () => (await db.selectFrom('ledger_checks').selectAll().execute())[0],
        20_000,
      );
      expect(good.ok).toBe(true);

      // A balance changed behind the ledger's back: the next check fails, is recorded and logged.
      const [user] = await db
        .insertInto('users')
        .values({ discord_id: '123456789012345678', username: 'x' })
        .returning('id')
        .execute();
      await db.insertInto('accounts').values({ id: user!.id, kind: 'user', balance: 5 }).execute();
      await queues.enqueue(ledgerCheckJob, {});
      const bad = await until(
        'a failed ledger check',
        async () => (await db.selectFrom('ledger_checks').selectAll().where('ok', '=', false).execute())[0],
        20_000,
      );
      expect(bad.report).toMatchObject({ ok: false, wallet_mismatches: 1, sum: '5' });
      await until('the failure in the log', () => server.output().includes('ledger check FAILED'), 20_000);
    } finally {
      await queues.close();
      redis.disconnect();
      await db.destroy();
    }
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  });
});

describe('npm run migrate', () => {
  it('is idempotent and logs each step', async () => {
    const name = testDbName('mig');
    created.push(name);
    const env = { DATABASE_URL: databaseUrl(name), REDIS_URL, DISCORD_PUBLIC_KEY: KEY, GUILD_ID };
    const first = await run(['db/migrate.ts'], env);
    expect(first.code).toBe(0);
    expect(first.out).toContain('created database');
    expect(first.out.match(/migration applied/g)!.length).toBeGreaterThanOrEqual(2);
    const second = await run(['db/migrate.ts'], env);
    expect(second.code).toBe(0);
    expect(second.out).toContain('database is up to date');
    expect(second.out).not.toContain('migration applied');
  });

  it('exits non-zero when the database cannot be reached, without printing credentials', async () => {
    const failed = await run(['db/migrate.ts'], {
      DATABASE_URL: 'postgres://coinhub:hunter2@127.0.0.1:1/coinhub',
      REDIS_URL,
      DISCORD_PUBLIC_KEY: KEY,
      GUILD_ID,
    });
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('migrate failed');
    expect(failed.out).not.toContain('hunter2');
  });
});

describe('npm run ledger:check', () => {
  it('prints one JSON line and exits by the ledger’s state', async () => {
    const name = testDbName('chk');
    created.push(name);
    const env = { DATABASE_URL: databaseUrl(name), REDIS_URL, DISCORD_PUBLIC_KEY: KEY, GUILD_ID };
    expect((await run(['db/migrate.ts'], env)).code).toBe(0);
    const ok = await run(['scripts/ledger-check.ts', '--json'], { DATABASE_URL: env.DATABASE_URL });
    expect(ok.code).toBe(0);
    const lines = ok.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ ok: true, accounts: 4, transfers: 0, sum: '0' });

    const db = createDb(env.DATABASE_URL, 1);
    const [user] = await db
      .insertInto('users')
      .values({ discord_id: '123456789012345679', username: 'y' })
      .returning('id')
      .execute();
    await db.insertInto('accounts').values({ id: user!.id, kind: 'user', balance: 7 }).execute();
    await db.destroy();
    const bad = await run(['scripts/ledger-check.ts', '--json'], { DATABASE_URL: env.DATABASE_URL });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out.trim())).toMatchObject({ ok: false, sum: '7', wallet_mismatches: 1 });
  });
});

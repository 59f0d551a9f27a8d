import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../db/client.ts';
import { checkLedger, type LedgerReport } from '../../economy/ledger-check.ts';
import { Ledger, SYSTEM_ACCOUNTS } from '../../economy/ledger.ts';
import { createTestDatabase, insertUsers, type TestDatabase } from '../helpers/db.ts';
import { PG_BASE_URL, databaseUrl } from '../helpers/env.ts';
import { ROOT } from './compose-check.ts';

const SCRIPTS = fileURLToPath(new URL('docker/backup/', ROOT));
const pgUrl = new URL(PG_BASE_URL);

let testDb: TestDatabase;
let backupDir: string;

/** The backup service's environment, pointed at the local Postgres and a scratch backup directory. */
function scriptEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    PGHOST: pgUrl.hostname,
    PGPORT: pgUrl.port || '5432',
    PGUSER: decodeURIComponent(pgUrl.username) || 'postgres',
    ...(pgUrl.password ? { PGPASSWORD: decodeURIComponent(pgUrl.password) } : {}),
    PGDATABASE: testDb.name,
    BACKUP_DIR: backupDir,
    BACKUP_STATE_DIR: backupDir,
    ...env,
  };
}

/** Runs one of the backup scripts with `sh`, as the backup image does. */
function run(script: string, args: string[] = [], env: Record<string, string> = {}) {
  const result = spawnSync('sh', [path.join(SCRIPTS, script), ...args], {
    encoding: 'utf8',
    env: scriptEnv(env),
  });
  return { code: result.status, out: result.stdout + result.stderr };
}

/**
 * `npm run ledger:check -- --json` on the test database, as an admin runs it after a restore; the password comes
 * from a file, as in the Docker stack (the local server trusts local connections, so any password is accepted).
 */
function ledgerCheckCommand(): LedgerReport {
  const passwordFile = path.join(backupDir, 'postgres_password');
  writeFileSync(passwordFile, 'restore-check\n');
  const result = spawnSync('npm', ['run', '--silent', 'ledger:check', '--', '--json'], {
    cwd: fileURLToPath(ROOT),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, DATABASE_URL: testDb.url, DATABASE_PASSWORD_FILE: passwordFile },
  });
  if (result.status !== 0)
    throw new Error(`ledger:check exited ${result.status}: ${result.stdout}${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as LedgerReport;
}

/** Row count of every table in the public schema. */
async function rowCounts(db: Db): Promise<Record<string, number>> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'
    order by table_name`.execute(db);
  const counts: Record<string, number> = {};
  for (const { table_name } of tables.rows) {
    const { rows } = await sql<{ n: string }>`select count(*) as n from ${sql.table(table_name)}`.execute(db);
    counts[table_name] = Number(rows[0]!.n);
  }
  return counts;
}

async function dropDatabase(name: string) {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  backupDir = mkdtempSync(path.join(tmpdir(), 'coinhub-backups-'));
  // Money moved through the ledger: rewards, payments, a posted escrow with a fee, a voided and a pending hold.
  const ledger = new Ledger(testDb.db);
  const users = (await insertUsers(testDb.db, 6)).map((u) => u.id);
  for (const [i, id] of users.entries())
    await ledger.transfer({
      key: `seed:${id}`,
      debit: SYSTEM_ACCOUNTS.mint,
      credit: id,
      amount: 1000 + i,
      reason: 'daily',
    });
  await ledger.transfer({ key: 'pay:1', debit: users[0]!, credit: users[1]!, amount: 250, reason: 'pay' });
  const expiresAt = new Date(Date.now() + 3_600_000);
  const sold = await ledger.hold({
    key: 'hold:1',
    debit: users[2]!,
    amount: 400,
    expiresAt,
    reason: 'market_purchase',
  });
  await ledger.post({
    key: 'post:1',
    pendingId: sold.transferId,
    credit: users[3]!,
    fee: 20,
    reason: 'market_sale',
  });
  const refunded = await ledger.hold({
    key: 'hold:2',
    debit: users[4]!,
    amount: 300,
    expiresAt,
    reason: 'market_purchase',
  });
  await ledger.void({ key: 'void:2', pendingId: refunded.transferId, reason: 'market_refund' });
  await ledger.hold({ key: 'hold:3', debit: users[5]!, amount: 120, expiresAt, reason: 'market_purchase' });
  expect((await checkLedger(testDb.db)).ok).toBe(true);
});

afterAll(async () => {
  await testDb?.drop();
  rmSync(backupDir, { recursive: true, force: true });
});

describe('docker/backup/backup.sh and restore.sh', () => {
  it('dumps, survives a dropped database, and restores the ledger exactly', async () => {
    const stale = path.join(backupDir, `${testDb.name}-20200101T030000Z.dump`);
    const unrelated = path.join(backupDir, 'other-20200101T030000Z.dump');
    for (const file of [stale, unrelated]) {
      writeFileSync(file, 'old');
      const fiveDaysAgo = new Date(Date.now() - 5 * 86_400_000);
      utimesSync(file, fiveDaysAgo, fiveDaysAgo);
    }
    const before = await rowCounts(testDb.db);
    const reportBefore = await checkLedger(testDb.db);
    expect(before.transfers).toBeGreaterThanOrEqual(10);

    const backup = run('backup.sh', [], { RETENTION_DAYS: '3' });
    expect(backup.code, backup.out).toBe(0);
    const dumps = readdirSync(backupDir).filter((f) => f.startsWith(`${testDb.name}-`));
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toMatch(new RegExp(`^${testDb.name}-\\d{8}T\\d{6}Z\\.dump$`));
    expect(backup.out).toContain(`removed ${stale}`);
    expect(existsSync(unrelated)).toBe(true);

    await testDb.db.destroy();
    await dropDatabase(testDb.name);

    const restore = run('restore.sh', [path.join(backupDir, dumps[0]!)]);
    expect(restore.code, restore.out).toBe(0);
    expect(restore.out).toContain(`created database ${testDb.name}`);

    testDb.db = createDb(testDb.url, 4);
    expect(await rowCounts(testDb.db)).toEqual(before);
    const report = ledgerCheckCommand();
    expect(report).toMatchObject({ ok: true, sum: '0', pending_holds: 1, transfers: reportBefore.transfers });
    expect(report.escrow_balance).toBe(reportBefore.escrow_balance);
  });

  it('refuses to restore over a database that has data unless told to replace it', async () => {
    const dump = readdirSync(backupDir).find((f) => f.startsWith(`${testDb.name}-`))!;
    await testDb.db
      .insertInto('users')
      .values({ discord_id: '999999999999999999', username: 'late' })
      .execute();
    const refused = run('restore.sh', [path.join(backupDir, dump)]);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/already has \d+ tables; rerun with --replace/);
    expect(
      await testDb.db.selectFrom('users').where('username', '=', 'late').select('id').execute(),
    ).toHaveLength(1);

    await testDb.db.destroy();
    const replaced = run('restore.sh', ['--replace', path.join(backupDir, dump)]);
    expect(replaced.code, replaced.out).toBe(0);
    testDb.db = createDb(testDb.url, 4);
    expect(
      await testDb.db.selectFrom('users').where('username', '=', 'late').select('id').execute(),
    ).toHaveLength(0);
    expect(ledgerCheckCommand().ok).toBe(true);
  });

  it('rejects bad input without touching anything', () => {
    const notADump = path.join(backupDir, 'notes.txt');
    writeFileSync(notADump, 'hello');
    expect(run('restore.sh', [notADump])).toMatchObject({ code: 1 });
    expect(run('restore.sh', []).code).toBe(2);
    const before = readdirSync(backupDir).sort();
    expect(run('backup.sh', [], { RETENTION_DAYS: '0' }).code).toBe(2);
    const failed = run('backup.sh', [], { PGDATABASE: 'coinhub_no_such_database' });
    expect(failed.code).not.toBe(0);
    expect(readdirSync(backupDir).sort()).toEqual(before);
  });

  it('the scheduler dumps at start when asked, then sleeps until BACKUP_AT and stops at once on SIGTERM', async () => {
    const dumps = () => readdirSync(backupDir).filter((f) => /^coinhub_t_\w+-\d{8}T\d{6}Z\.dump$/.test(f));
    const before = dumps().length;
    // The dump file names carry the second; make sure this one does not collide with the first test's.
    await new Promise((r) => setTimeout(r, 1100));
    const child = spawn('sh', [path.join(SCRIPTS, 'schedule.sh')], {
      env: scriptEnv({ BACKUP_ON_START: 'true' }),
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!/next run in \d+s/.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/backup: wrote .*\.dump/);
    expect(out).toMatch(/next run in \d+s/);
    expect(dumps().length).toBe(before + 1);
    const stopping = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(2000);
    expect(out).toContain('scheduler stopping');
  });

  it('reports its health for the container healthcheck and validates its schedule', () => {
    expect(run('schedule.sh', ['health']).code).toBe(0);
    writeFileSync(path.join(backupDir, 'coinhub-backup-failed'), '2026-11-26T03:00:00Z');
    const unhealthy = run('schedule.sh', ['health']);
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.out).toContain('last backup failed at 2026-11-26T03:00:00Z');
    expect(run('schedule.sh', [], { BACKUP_AT: '25:00' }).code).toBe(2);
  });
});

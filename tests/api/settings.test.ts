import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUsers } from '../helpers/db.ts';
import { startApiRig, type ApiRig, type As } from '../helpers/api.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { slashCommand, type Actor } from '../../playground/interactions.ts';

// The real server (child process) answers /daily; an API app in this process, on the same database and Redis
// prefix, changes the settings: the change reaches the other process through Redis, not its cache's TTL.
let server: InteractionServer;
let api: ApiRig;
let owner: As;
let moderator: As;

const alice: Actor = { id: '510000000000000001', username: 'alice' };
const bob: Actor = { id: '510000000000000002', username: 'bob' };

beforeAll(async () => {
  server = await startInteractionServer();
  api = await startApiRig({ db: server.db, redisPrefix: server.redisPrefix });
  const [o, m] = await insertUsers(server.db.db, 2, 610_000_000_000_000_000n);
  owner = { userId: o!.id, role: 'owner' };
  moderator = { userId: m!.id, role: 'moderator' };
});

afterAll(async () => {
  await api?.close();
  await server?.stop();
});

const dailyPaid = async (discordId: string) => {
  const row = await server.db.db
    .selectFrom('transfers as t')
    .innerJoin('users as u', 'u.id', 't.credit_account_id')
    .select('t.amount')
    .where('u.discord_id', '=', discordId)
    .where('t.reason', '=', 'daily')
    .executeTakeFirst();
  return row && Number(row.amount);
};

const settingsRows = () => server.db.db.selectFrom('economy_settings').selectAll().execute();
const auditRows = () =>
  server.db.db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', 'settings.change')
    .orderBy('id')
    .execute();

describe('economy settings', () => {
  it("lists every setting with the environment's default, none overridden", async () => {
    const res = await api.call(owner, 'GET', '/settings');
    expect(res.status).toBe(200);
    const daily = res.body.settings.find((s: { key: string }) => s.key === 'dailyBase');
    expect(daily).toMatchObject({ value: 100, default: 100, overridden: false });
    expect(res.body.settings.map((s: { key: string }) => s.key)).toContain('rateLimitWindowS');
  });

  it('a saved daily base is what /daily pays on the next claim, in the other process at once', async () => {
    await server.send(slashCommand('daily', alice));
    expect(await dailyPaid(alice.id)).toBe(100);

    const res = await api.call(owner, 'PATCH', '/settings', { values: { dailyBase: 250 } });
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(true);
    expect(res.body.audit).toMatchObject({
      action: 'settings.change',
      before: { dailyBase: 100 },
      after: { dailyBase: 250 },
      source: 'panel',
    });
    // The server read the settings for alice's claim just now; only the Redis message can refresh it this soon.
    await server.send(slashCommand('daily', bob));
    expect(await dailyPaid(bob.id)).toBe(250);
  });

  it('refuses bad values with a clear error and writes nothing', async () => {
    const before = { rows: await settingsRows(), audit: (await auditRows()).length };
    for (const values of [
      { marketFeePct: 100 },
      { dailyTimeZone: 'Mars/Olympus' },
      { dailyBase: 1.5 },
      { priceFloorPct: -1 },
      { notASetting: 1 },
    ]) {
      const res = await api.call(owner, 'PATCH', '/settings', { values });
      expect(res.status, JSON.stringify(values)).toBe(400);
      expect(res.body.error.code).toMatch(/^invalid_/);
    }
    expect(await settingsRows()).toEqual(before.rows);
    expect((await auditRows()).length).toBe(before.audit);
  });

  it('a moderator may not change settings', async () => {
    const res = await api.call(moderator, 'PATCH', '/settings', { values: { dailyBase: 1 } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect((await api.call(owner, 'GET', '/settings')).body.settings[0]).toMatchObject({ value: 250 });
  });

  it('resetting returns a setting to its default, audited; saving the same value again changes nothing', async () => {
    const same = await api.call(owner, 'PATCH', '/settings', { values: { dailyBase: 250 } });
    expect(same.body).toMatchObject({ changed: false, audit: null });
    const reset = await api.call(owner, 'PATCH', '/settings', { reset: ['dailyBase'] });
    expect(reset.body.changed).toBe(true);
    expect(reset.body.audit).toMatchObject({ before: { dailyBase: 250 }, after: { dailyBase: 100 } });
    expect(reset.body.settings.find((s: { key: string }) => s.key === 'dailyBase')).toMatchObject({
      value: 100,
      overridden: false,
    });
    expect(await settingsRows()).toEqual([]);
  });
});

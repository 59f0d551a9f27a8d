import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../db/client.ts';
import { balanceOf, createTestDatabase, insertUsers, type TestDatabase } from '../../tests/helpers/db.ts';
import { checkLedger } from '../ledger-check.ts';
import { RewardGrants } from './rewards.ts';

let t: TestDatabase;
let second: Db;
const settings = { dailyCap: 1000, timeZone: 'UTC' };
const at = new Date('2026-12-01T10:00:00Z');

beforeAll(async () => {
  t = await createTestDatabase(10);
  // A second pool on the same database: another process's batches.
  second = createDb(t.url, 10);
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await second.destroy();
  await t.drop();
});

async function linkedPlayer(n: number) {
  const [user] = await insertUsers(t.db, 1, 800_000_000_000_000_000n + BigInt(n));
  const uuid = randomUUID();
  await t.db
    .updateTable('users')
    .set({ minecraft_uuid: uuid, minecraft_name: `p${n}` })
    .where('id', '=', user!.id)
    .execute();
  return { userId: String(user!.id), uuid };
}

const grant = (uuid: string, id: string, amount: number) => ({
  meta: { webhookId: id, type: 'reward.grant', server: 'test' },
  uuid,
  amount,
  source: 'test',
});

describe('reward grants', () => {
  it('two processes granting one player at once never pass the daily cap, and pay each event once', async () => {
    const p = await linkedPlayer(1);
    const a = new RewardGrants(t.db, settings, () => at);
    const b = new RewardGrants(second, settings, () => at);
    const sent = Array.from({ length: 60 }, (_, i) => grant(p.uuid, `race-${i}`, 30));
    const answers = await Promise.all(sent.map((g, i) => (i % 2 ? a : b).grant(g)));
    const paid = answers.filter((r) => r.answer.status === 200).length;
    expect(answers.every((r) => r.answer.status === 200 || r.answer.status === 409)).toBe(true);
    expect(await balanceOf(t.db, p.userId)).toBe(1000);
    // 33 events of 30 and one capped at 10.
    expect(paid).toBe(34);

    const again = await Promise.all(sent.map((g, i) => (i % 2 ? b : a).grant(g)));
    expect(again.map((r) => r.answer)).toEqual(answers.map((r) => r.answer));
    expect(again.every((r) => r.replayed)).toBe(true);
    expect(await balanceOf(t.db, p.userId)).toBe(1000);
  });

  it('one new event sent several times at once pays once, and every copy gets the same answer', async () => {
    const p = await linkedPlayer(3);
    const a = new RewardGrants(t.db, settings, () => at);
    const b = new RewardGrants(second, settings, () => at);
    const copies = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).grant(grant(p.uuid, 'twice', 40))),
    );
    for (const c of copies)
      expect(c.answer).toEqual({ status: 200, body: { ok: true, message: '+40 coins for test.' } });
    expect(await balanceOf(t.db, p.userId)).toBe(40);
  });

  it('the cap is per day: the next day pays again; a frozen wallet is refused and does not count', async () => {
    const p = await linkedPlayer(2);
    const today = new RewardGrants(t.db, settings, () => at);
    expect((await today.grant(grant(p.uuid, 'day-1', 1000))).answer.status).toBe(200);
    expect((await today.grant(grant(p.uuid, 'day-2', 1))).answer.status).toBe(409);
    const tomorrow = new RewardGrants(t.db, settings, () => new Date(at.getTime() + 86_400_000));
    expect((await tomorrow.grant(grant(p.uuid, 'day-3', 5))).answer).toEqual({
      status: 200,
      body: { ok: true, message: '+5 coins for test.' },
    });
    await t.db.updateTable('users').set({ frozen: true }).where('id', '=', p.userId).execute();
    const frozen = await tomorrow.grant(grant(p.uuid, 'day-4', 5));
    expect(frozen.answer).toMatchObject({ status: 403, body: { error: { code: 'frozen' } } });
    await t.db.updateTable('users').set({ frozen: false }).where('id', '=', p.userId).execute();
    expect((await tomorrow.grant(grant(p.uuid, 'day-5', 995))).answer.status).toBe(200);
    expect(await balanceOf(t.db, p.userId)).toBe(2000);
  });
});

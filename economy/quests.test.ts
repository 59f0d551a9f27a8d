import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db.ts';
import { listActiveQuests } from './quests.ts';

let t: TestDatabase;
const now = new Date('2026-11-26T12:00:00Z');
const hoursFromNow = (h: number) => new Date(now.getTime() + h * 3_600_000);

beforeAll(async () => {
  t = await createTestDatabase();
});

afterAll(async () => {
  await t.drop();
});

it('says there are none on an empty table', async () => {
  expect(await listActiveQuests(t.db, now)).toEqual([]);
});

it('lists running active quests, those ending soonest first, open-ended last', async () => {
  await t.db
    .insertInto('quests')
    .values([
      { title: 'Open-ended', description: 'Any time', reward: 50, starts_at: hoursFromNow(-48) },
      {
        title: 'Ends tomorrow',
        description: 'Mine 64 diamonds',
        reward: 500,
        starts_at: hoursFromNow(-1),
        ends_at: hoursFromNow(24),
      },
      {
        title: 'Ends soon',
        description: '',
        reward: 10,
        starts_at: hoursFromNow(-1),
        ends_at: hoursFromNow(1),
      },
      { title: 'Not started', reward: 10, starts_at: hoursFromNow(1) },
      { title: 'Over', reward: 10, starts_at: hoursFromNow(-10), ends_at: hoursFromNow(-1) },
      { title: 'Ends exactly now', reward: 10, starts_at: hoursFromNow(-10), ends_at: now },
      { title: 'Switched off', reward: 10, active: false, starts_at: hoursFromNow(-10) },
    ])
    .execute();
  const quests = await listActiveQuests(t.db, now);
  expect(quests.map((q) => q.title)).toEqual(['Ends soon', 'Ends tomorrow', 'Open-ended']);
  expect(quests[1]).toEqual({
    id: expect.stringMatching(/^\d+$/),
    title: 'Ends tomorrow',
    description: 'Mine 64 diamonds',
    reward: 500,
    endsAt: hoursFromNow(24),
  });
  expect(quests[2]!.endsAt).toBeNull();
});

it('refuses a quest that ends before it starts or has a negative reward', async () => {
  await expect(
    t.db
      .insertInto('quests')
      .values({ title: 'Bad', reward: 1, starts_at: now, ends_at: hoursFromNow(-1) })
      .execute(),
  ).rejects.toMatchObject({ code: '23514' });
  await expect(
    t.db.insertInto('quests').values({ title: 'Bad', reward: -1 }).execute(),
  ).rejects.toMatchObject({
    code: '23514',
  });
});

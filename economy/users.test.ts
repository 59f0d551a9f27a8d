import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db.ts';
import { AppError } from './errors.ts';
import { findUserByDiscordId, upsertDiscordUser, type DiscordProfile } from './users.ts';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});

afterAll(async () => {
  await t.drop();
});

const profile = (discordId: string, extra: Partial<DiscordProfile> = {}): DiscordProfile => ({
  discordId,
  username: 'ada',
  globalName: 'Ada L.',
  avatar: 'a_1f2e3d',
  ...extra,
});

const row = (discordId: string) =>
  t.db
    .selectFrom('users')
    .select(['id', 'username', 'global_name', 'avatar', 'updated_at', 'created_at'])
    .where('discord_id', '=', discordId)
    .executeTakeFirstOrThrow();

/** The transaction id that wrote the row's current version: any update, even to equal values, changes it. */
const rowVersion = async (discordId: string) =>
  (await sql<{ xmin: string }>`select xmin::text from users where discord_id = ${discordId}`.execute(t.db))
    .rows[0]?.xmin;

describe('upsertDiscordUser', () => {
  it('creates the user and a wallet with the same id on first sight', async () => {
    const user = await upsertDiscordUser(t.db, profile('300000000000000001'));
    expect(user).toMatchObject({
      discordId: '300000000000000001',
      username: 'ada',
      globalName: 'Ada L.',
      avatar: 'a_1f2e3d',
      frozen: false,
      frozenReason: null,
    });
    const wallet = await t.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(wallet).toMatchObject({ kind: 'user', balance: '0', code: null });
    expect(await findUserByDiscordId(t.db, '300000000000000001')).toEqual(user);
  });

  it('writes nothing when the profile is unchanged', async () => {
    const first = await upsertDiscordUser(t.db, profile('300000000000000002'));
    const before = await row('300000000000000002');
    await new Promise((r) => setTimeout(r, 20));
    const again = await upsertDiscordUser(t.db, profile('300000000000000002'));
    expect(again).toEqual(first);
    const after = await row('300000000000000002');
    expect(after.updated_at).toEqual(before.updated_at);
    const version = await rowVersion('300000000000000002');
    await upsertDiscordUser(t.db, profile('300000000000000002'));
    expect(await rowVersion('300000000000000002')).toBe(version);
  });

  it('updates username, global name and avatar when they change', async () => {
    const first = await upsertDiscordUser(t.db, profile('300000000000000003'));
    const before = await row('300000000000000003');
    await new Promise((r) => setTimeout(r, 20));
    const renamed = await upsertDiscordUser(
      t.db,
      profile('300000000000000003', { username: 'ada2', globalName: null, avatar: null }),
    );
    expect(renamed).toMatchObject({ id: first.id, username: 'ada2', globalName: null, avatar: null });
    const after = await row('300000000000000003');
    expect(after).toMatchObject({ username: 'ada2', global_name: null, avatar: null });
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    expect(after.created_at).toEqual(before.created_at);

    const avatarOnly = await upsertDiscordUser(
      t.db,
      profile('300000000000000003', { username: 'ada2', globalName: null, avatar: 'b_99' }),
    );
    expect(avatarOnly).toMatchObject({ id: first.id, avatar: 'b_99' });
  });

  it('creates exactly one user and wallet for 20 concurrent first interactions', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => upsertDiscordUser(t.db, profile('300000000000000004'))),
    );
    expect(new Set(results.map((u) => u.id)).size).toBe(1);
    const users = await t.db
      .selectFrom('users')
      .select('id')
      .where('discord_id', '=', '300000000000000004')
      .execute();
    expect(users).toHaveLength(1);
    const wallets = await t.db.selectFrom('accounts').select('id').where('id', '=', users[0]!.id).execute();
    expect(wallets).toHaveLength(1);
  });

  it('settles 20 concurrent renames of one user on one of them', async () => {
    await upsertDiscordUser(t.db, profile('300000000000000005'));
    const names = Array.from({ length: 20 }, (_, i) => `name${i}`);
    const results = await Promise.all(
      names.map((username) => upsertDiscordUser(t.db, profile('300000000000000005', { username }))),
    );
    results.forEach((u, i) => expect(u.username).toBe(names[i]));
    expect(names).toContain((await row('300000000000000005')).username);
  });

  it('refuses a malformed Discord id and writes nothing', async () => {
    const count = async () =>
      Number(
        (
          await t.db
            .selectFrom('users')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    await expect(upsertDiscordUser(t.db, profile('12ab'))).rejects.toThrowError(AppError);
    await expect(
      upsertDiscordUser(t.db, profile('300000000000000006', { username: '' })),
    ).rejects.toMatchObject({
      code: 'invalid_profile',
    });
    expect(await count()).toBe(before);
    expect(await findUserByDiscordId(t.db, 'nope')).toBeUndefined();
    expect(await findUserByDiscordId(t.db, '399999999999999999')).toBeUndefined();
  });
});

describe('findUserByDiscordId', () => {
  it('answers concurrent lookups (one query) each with its own user, the same one twice, or nothing', async () => {
    const [x, y] = await Promise.all([
      upsertDiscordUser(t.db, profile('300000000000000101', { username: 'x' })),
      upsertDiscordUser(t.db, profile('300000000000000102', { username: 'y' })),
    ]);
    const found = await Promise.all(
      ['300000000000000101', '300000000000000102', '300000000000000199', '300000000000000101', 'nope'].map(
        (id) => findUserByDiscordId(t.db, id),
      ),
    );
    expect(found).toEqual([x, y, undefined, x, undefined]);
  });
});

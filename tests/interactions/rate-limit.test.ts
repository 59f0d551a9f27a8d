import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserByDiscordId } from '../../economy/users.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { autocomplete, buttonClick, slashCommand } from '../helpers/interactions.ts';
import { until } from '../helpers/wait.ts';

let rig: InteractionServer;
beforeAll(async () => {
  rig = await startInteractionServer({
    env: { RATE_LIMIT_ACTIONS: '5', RATE_LIMIT_AUTOCOMPLETE: '8', RATE_LIMIT_WINDOW_S: '2' },
  });
});
afterAll(async () => {
  await rig?.stop();
});

describe('per-user rate limit', () => {
  it('past the limit answers "slow down" privately and runs nothing; other users and a new window are unaffected', async () => {
    const me = { id: '500000000000000001' };
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await rig.send(buttonClick('hub:help', me))).body);
    for (const a of answers)
      expect(a.data).toMatchObject({
        flags: 64,
        embeds: [expect.objectContaining({ title: 'How Coinhub works' })],
      });

    const limited = (await rig.send(slashCommand('daily', me))).body;
    expect(limited.type).toBe(4);
    expect(limited.data).toMatchObject({ flags: 64, content: expect.stringMatching(/slow down/i) });
    const claims = await rig.db.db.selectFrom('daily_claims').selectAll().execute();
    expect(claims).toHaveLength(0);

    const other = (await rig.send(slashCommand('daily', { id: '500000000000000002' }))).body;
    expect(other.data).toMatchObject({ embeds: [expect.objectContaining({ title: '+100 coins' })] });

    // The window ends when its Redis key expires: ask again until the answer is no longer "slow down".
    await until('the rate-limit window to end', async () => {
      const { body } = await rig.send(buttonClick('hub:help', me));
      return !/slow down/i.test(JSON.stringify(body)) || undefined;
    });
    const later = (await rig.send(slashCommand('daily', me))).body;
    expect(later.data).toMatchObject({ embeds: [expect.objectContaining({ title: '+100 coins' })] });
  });

  it('a user created by nothing: the limited request did not create the user either', async () => {
    const flood = { id: '500000000000000003', username: 'first' };
    for (let i = 0; i < 5; i++) await rig.send(buttonClick('hub:help', flood));
    await rig.send(buttonClick('hub:help', { ...flood, username: 'renamed' }));
    const row = await rig.db.db
      .selectFrom('users')
      .select('username')
      .where('discord_id', '=', flood.id)
      .executeTakeFirstOrThrow();
    expect(row.username).toBe('first');
  });

  it('autocomplete has its own looser limit, spends no action budget and never creates the user', async () => {
    await rig.db.db
      .insertInto('catalog_items')
      .values({ name: 'Sword', kind: 'other', base_price: 10 })
      .execute();
    const typist = { id: '500000000000000004' };
    const suggested = [];
    for (let i = 0; i < 9; i++)
      suggested.push((await rig.send(autocomplete('sell', typist, 'item', 'sw'))).body.data);
    for (const data of suggested.slice(0, 8))
      expect(data).toEqual({
        choices: [expect.objectContaining({ name: expect.stringContaining('Sword') })],
      });
    expect(suggested[8]).toEqual({ choices: [] });
    const user = await findUserByDiscordId(rig.db.db, typist.id);
    expect(user).toBeUndefined();

    const help = (await rig.send(buttonClick('hub:help', typist))).body;
    expect(help.data).toMatchObject({ embeds: [expect.objectContaining({ title: 'How Coinhub works' })] });
  });
});

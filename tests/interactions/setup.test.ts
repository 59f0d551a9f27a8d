import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { slashCommand, TEST_APPLICATION_ID, TEST_GUILD_ID, type Actor } from '../helpers/interactions.ts';
import { until } from '../helpers/wait.ts';

let rig: InteractionServer;
beforeAll(async () => {
  rig = await startInteractionServer();
  // An existing #shop the setup must reuse, and an unrelated channel it must leave alone.
  rig.discord.addGuild(TEST_GUILD_ID, [
    { id: '910000000000000001', name: 'general' },
    { id: '910000000000000002', name: 'shop' },
  ]);
});
afterAll(async () => {
  await rig?.stop();
});

const admin: Actor = { id: '400000000000000001', username: 'boss', admin: true };
const VIEW_CHANNEL = 1n << 10n;

async function runSetup() {
  const payload = slashCommand('setup', admin, {}, 'channels');
  const { body } = await rig.send(payload);
  expect(body).toEqual({ type: 5, data: { flags: 64 } });
  const edits = await until(
    'the deferred response edit',
    () => rig.discord.responseEdits.get(payload.token),
    20_000,
    () => rig.server.output(),
  );
  return edits[0] as { content: string };
}

describe('/setup', () => {
  it('refuses non-admins privately and enqueues nothing', async () => {
    const { body } = await rig.send(slashCommand('setup', { id: '400000000000000002' }, {}, 'channels'));
    expect(body.type).toBe(4);
    expect(body.data).toMatchObject({ flags: 64, content: expect.stringMatching(/only admins/i) });
    expect(rig.discord.calls).toHaveLength(0);
  });

  it('creates the missing channels, reuses #shop, posts the hub and stores the ids; a second run duplicates nothing', async () => {
    const first = await runSetup();
    expect(first.content).toMatch(/Coinhub is set up/);
    expect(first.content).toContain('Shop: <#910000000000000002> (reused)');
    expect(first.content).toMatch(/Coin Hub: <#\d+> \(created\)/);
    expect(first.content).toMatch(/Hub message posted/);

    const channels = () => rig.discord.guildChannels(TEST_GUILD_ID);
    const names = channels()
      .map((c) => c.name)
      .sort();
    expect(names).toEqual(['coin-hub', 'coin-transactions', 'general', 'leaderboard', 'shop']);

    const tx = channels().find((c) => c.name === 'coin-transactions')!;
    const everyone = tx.permission_overwrites.find((o) => o.id === TEST_GUILD_ID)!;
    expect(everyone.type).toBe(0);
    expect(BigInt(everyone.deny) & VIEW_CHANNEL).toBe(VIEW_CHANNEL);
    const bot = tx.permission_overwrites.find((o) => o.id === TEST_APPLICATION_ID)!;
    expect(BigInt(bot.allow) & VIEW_CHANNEL).toBe(VIEW_CHANNEL);
    for (const name of ['coin-hub', 'leaderboard']) {
      expect(channels().find((c) => c.name === name)!.permission_overwrites).toEqual([]);
    }

    const hub = channels().find((c) => c.name === 'coin-hub')!;
    const hubMessages = rig.discord.channelMessages(hub.id);
    expect(hubMessages).toHaveLength(1);
    const buttons = (
      hubMessages[0]!.components as { components: { custom_id: string }[] }[]
    )[0]!.components.map((b) => b.custom_id);
    expect(buttons).toEqual(['hub:card', 'hub:shop', 'hub:quests', 'hub:daily', 'hub:help']);

    const settings = await rig.db.db
      .selectFrom('guild_settings')
      .selectAll()
      .where('guild_id', '=', TEST_GUILD_ID)
      .executeTakeFirstOrThrow();
    expect(settings).toMatchObject({
      hub_channel_id: hub.id,
      shop_channel_id: '910000000000000002',
      leaderboard_channel_id: channels().find((c) => c.name === 'leaderboard')!.id,
      tx_channel_id: tx.id,
      hub_message_id: hubMessages[0]!.id,
    });

    // Someone opened #coin-transactions to everyone by hand; the second run must close it again.
    tx.permission_overwrites = [];
    const second = await runSetup();
    expect(second.content).toMatch(/Hub message updated/);
    expect(second.content).not.toMatch(/\(created\)/);
    expect(channels()).toHaveLength(5);
    expect(rig.discord.callsTo('POST', /\/guilds\/\d+\/channels$/)).toHaveLength(3);
    expect(rig.discord.channelMessages(hub.id)).toHaveLength(1);
    expect(rig.discord.channelMessages(hub.id)[0]!.edited_timestamp).not.toBeNull();
    expect(rig.discord.callsTo('POST', /\/channels\/\d+\/messages$/)).toHaveLength(1);
    expect(BigInt(tx.permission_overwrites.find((o) => o.id === TEST_GUILD_ID)!.deny) & VIEW_CHANNEL).toBe(
      VIEW_CHANNEL,
    );

    // Every bot call carried the token; every body passed Discord's checks.
    expect(rig.discord.problems).toEqual([]);
    for (const call of rig.discord.calls) {
      if (call.path.includes('/webhooks/')) expect(call.authorization).toBeUndefined();
      else expect(call.authorization).toBe('Bot test-bot-token.abc.def');
    }
  });

  it('finds its earlier hub message when the stored id is lost', async () => {
    await rig.db.db
      .updateTable('guild_settings')
      .set({ hub_message_id: null })
      .where('guild_id', '=', TEST_GUILD_ID)
      .execute();
    const third = await runSetup();
    expect(third.content).toMatch(/Hub message updated/);
    const hub = rig.discord.guildChannels(TEST_GUILD_ID).find((c) => c.name === 'coin-hub')!;
    expect(rig.discord.channelMessages(hub.id)).toHaveLength(1);
  });

  it('two admins running /setup at the same moment still create each channel once', async () => {
    // A server of its own: the shared one is set up already, and Coinhub serves only its GUILD_ID.
    const guildId = '930000000000000001';
    const fresh = await startInteractionServer({ env: { GUILD_ID: guildId } });
    try {
      fresh.discord.addGuild(guildId);
      const payloads = [0, 1].map(() => slashCommand('setup', { ...admin, guildId }, {}, 'channels'));
      await Promise.all(payloads.map((p) => fresh.send(p)));
      const outcomes = await Promise.all(
        payloads.map((p) =>
          until(
            'both deferred response edits',
            () => fresh.discord.responseEdits.get(p.token)?.[0] as { content: string } | undefined,
            20_000,
            () => fresh.server.output(),
          ),
        ),
      );
      for (const o of outcomes) expect(o.content).toMatch(/Coinhub is set up/);
      expect(outcomes.filter((o) => /Hub message posted/.test(o.content))).toHaveLength(1);
      const names = fresh.discord
        .guildChannels(guildId)
        .map((c) => c.name)
        .sort();
      expect(names).toEqual(['coin-hub', 'coin-transactions', 'leaderboard', 'shop']);
      const hub = fresh.discord.guildChannels(guildId).find((c) => c.name === 'coin-hub')!;
      expect(fresh.discord.channelMessages(hub.id)).toHaveLength(1);
    } finally {
      await fresh.stop();
    }
  });

  it('tells the admin when Discord refuses for good (missing permissions)', async () => {
    rig.discord.route('GET', '/guilds/:guild/channels', () => ({
      status: 403,
      body: { code: 50013, message: 'Missing Permissions' },
    }));
    const failed = await runSetup();
    expect(failed.content).toMatch(/Setup failed: the bot is missing permissions/);
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../../economy/ledger-check.ts';
import { signWebhook } from '../../minecraft/signing.ts';
import { transferCount } from '../helpers/db.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { TEST_GUILD_ID, slashCommand } from '../../playground/interactions.ts';
import { until } from '../helpers/wait.ts';
import { marketClient, text } from '../market/discord-client.ts';
import { WEBHOOK_SECRET, eventId, linkThroughDiscord, player, pluginClient } from './helpers.ts';

let rig: InteractionServer;

beforeAll(async () => {
  rig = await startInteractionServer({
    env: {
      RATE_LIMIT_ACTIONS: '10000',
      GUILD_ID: TEST_GUILD_ID,
      REDEMPTION_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MINECRAFT_REWARD_DAILY_CAP: '500',
    },
  });
});

afterAll(async () => {
  if (rig) expect((await checkLedger(rig.db.db)).ok).toBe(true);
  await rig?.stop();
});

const client = marketClient(() => rig, 610000000000000000n);
const plugin = pluginClient(() => rig);
const eventRows = async () =>
  Number(
    (
      await rig.db.db
        .selectFrom('minecraft_events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('POST /webhooks/minecraft', () => {
  it('refuses forged, stale, future, altered, oversized, unknown and malformed events and does nothing', async () => {
    const before = { transfers: await transferCount(rig.db.db), events: await eventRows() };
    const p = player('Alex_01');
    const body = JSON.stringify({ type: 'player.join', server: 'survival', data: p });

    expect((await plugin.post(body, {})).status).toBe(401);
    const forged = await plugin.event('player.join', p, { secret: 'whsec_Zm9yZ2Vka2V5' });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect((await plugin.event('player.join', p, { at: new Date(Date.now() - 6 * 60_000) })).status).toBe(
      401,
    );
    expect((await plugin.event('player.join', p, { at: new Date(Date.now() + 6 * 60_000) })).status).toBe(
      401,
    );
    const altered = body.replace('Alex_01', 'Alex_02');
    expect((await plugin.post(altered, signWebhook(WEBHOOK_SECRET, eventId(), body))).status).toBe(401);

    const huge = JSON.stringify({ type: 'player.join', server: 'x'.repeat(70 * 1024), data: p });
    const oversized = await plugin.post(huge, signWebhook(WEBHOOK_SECRET, eventId(), huge));
    expect(oversized.status).toBe(413);

    const unknown = await plugin.event('player.teleport', p);
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'unknown_type' } } });
    const badName = await plugin.event('player.join', { uuid: p.uuid, name: 'no spaces!' });
    expect(badName).toMatchObject({ status: 400, body: { error: { code: 'invalid_event' } } });
    expect(badName.body.error!.message).toMatch(/data\.name/);
    const badUuid = await plugin.event('player.join', { uuid: 'not-a-uuid', name: 'Alex_01' });
    expect(badUuid.status).toBe(400);
    const extra = await plugin.event('reward.grant', { uuid: p.uuid, amount: 1.5, source: 'x' });
    expect(extra.status).toBe(400);
    const longId = await plugin.event(
      'reward.grant',
      { uuid: p.uuid, amount: 1, source: 'x' },
      { id: 'm'.repeat(181) },
    );
    expect(longId).toMatchObject({ status: 400, body: { error: { code: 'invalid_event' } } });

    expect(await transferCount(rig.db.db)).toBe(before.transfers);
    expect(await eventRows()).toBe(before.events);
    expect(await rig.db.db.selectFrom('minecraft_players').selectAll().execute()).toEqual([]);
  });

  it('links through /link and account.link, one to one: relinking moves the player, audited, with a DM', async () => {
    const ann = client.actor();
    const bob = client.actor();
    await client.fund(ann, 0);
    await client.fund(bob, 0);
    const steve = player('Steve_1');

    const first = await client.send(slashCommand('link', ann), 4);
    const code = /\/coinhub link ([A-Z2-9]{8})/.exec(first.content!)![1]!;
    const id = eventId();
    const linked = await plugin.event('account.link', { code: code.toLowerCase(), ...steve }, { id });
    expect(linked).toEqual({
      status: 200,
      body: { ok: true, message: 'Steve_1 is now linked to your Discord account.' },
    });
    // The same webhook-id again: the first answer, and nothing runs twice (the code is spent, so a rerun would fail).
    expect(await plugin.event('account.link', { code, ...steve }, { id })).toEqual(linked);
    const reused = await plugin.event('account.link', { code, ...steve });
    expect(reused).toMatchObject({ status: 404, body: { error: { code: 'invalid_link_code' } } });

    expect(text(await client.send(slashCommand('card', ann), 4))).toContain('⛏️ Steve_1');
    await until('the link DM', () => client.dmsTo(ann.id).find((m) => m.includes('**Steve_1**')));

    expect((await linkThroughDiscord(client, plugin, bob, steve)).status).toBe(200);
    expect(text(await client.send(slashCommand('card', ann), 4))).toContain('Not linked');
    expect(text(await client.send(slashCommand('card', bob), 4))).toContain('⛏️ Steve_1');
    const audit = await rig.db.db
      .selectFrom('audit_log')
      .select(['action', 'before', 'after'])
      .where('action', 'like', 'minecraft.%')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['minecraft.link', 'minecraft.relink']);
    expect(audit[1]!.after).toEqual({ uuid: steve.uuid, name: 'Steve_1' });

    const unlinked = await client.send(slashCommand('unlink', bob), 4);
    expect(unlinked.content).toBe('Unlinked the Minecraft account Steve_1.');
    expect((await client.send(slashCommand('unlink', bob), 4)).content).toMatch(/No Minecraft account/);
  });

  it('gives at most five link codes a day, each working for ten minutes only', async () => {
    const cara = client.actor();
    await client.fund(cara, 0);
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await client.send(slashCommand('link', cara), 4);
      codes.push(/\/coinhub link ([A-Z2-9]{8})/.exec(answer.content!)![1]!);
    }
    expect((await client.send(slashCommand('link', cara), 4)).content).toMatch(/5 link codes/);
    // A newer code replaces the older ones.
    const older = await plugin.event('account.link', { code: codes[0], ...player('Cara_x') });
    expect(older.status).toBe(404);
    rig.setClockOffset(11 * 60_000);
    try {
      const late = await plugin.event('account.link', { code: codes[4], ...player('Cara_x') });
      expect(late).toMatchObject({ status: 404, body: { error: { code: 'invalid_link_code' } } });
    } finally {
      rig.setClockOffset(0);
    }
  });

  it('reward.grant pays from mint once per webhook-id, up to the daily cap; quest.progress counts', async () => {
    const dora = client.actor();
    const doraId = await client.fund(dora, 0);
    const p = player('Dora_mc');
    await linkThroughDiscord(client, plugin, dora, p);

    const id = eventId();
    const grant = await plugin.event(
      'reward.grant',
      { uuid: p.uuid, amount: 200, source: 'achievement' },
      { id },
    );
    expect(grant).toEqual({ status: 200, body: { ok: true, message: '+200 coins for achievement.' } });
    const replays = await Promise.all(
      Array.from({ length: 5 }, () =>
        plugin.event('reward.grant', { uuid: p.uuid, amount: 200, source: 'achievement' }, { id }),
      ),
    );
    for (const r of replays) expect(r).toEqual(grant);
    expect(await client.balance(doraId)).toBe(200);

    const capped = await plugin.event('reward.grant', { uuid: p.uuid, amount: 400, source: 'playtime' });
    expect(capped.body.message).toBe('+300 coins for playtime (the daily limit is reached).');
    const over = await plugin.event('reward.grant', { uuid: p.uuid, amount: 1, source: 'playtime' });
    expect(over).toMatchObject({ status: 409, body: { error: { code: 'daily_cap_reached' } } });
    expect(await client.balance(doraId)).toBe(500);
    const stranger = await plugin.event('reward.grant', {
      uuid: player('Nobody').uuid,
      amount: 5,
      source: 'x',
    });
    expect(stranger).toMatchObject({ status: 404, body: { error: { code: 'not_linked' } } });
    const keyed = await rig.db.db
      .selectFrom('transfers')
      .select(['debit_account_id', 'amount', 'reason'])
      .where('idempotency_key', '=', `minecraft:${id}`)
      .execute();
    expect(keyed).toEqual([{ debit_account_id: '1', amount: '200', reason: 'minecraft_reward' }]);

    const q = { uuid: p.uuid, counter: 'mobs.zombie', increment: 3 };
    const qid = eventId();
    expect((await plugin.event('quest.progress', q, { id: qid })).body.message).toBe('mobs.zombie: 3');
    expect((await plugin.event('quest.progress', q, { id: qid })).body.message).toBe('mobs.zombie: 3');
    expect((await plugin.event('quest.progress', q)).body.message).toBe('mobs.zombie: 6');
  });
});

describe('npm run mc:send and mc:secret', () => {
  const run = promisify(execFile);
  const script = (name: string, args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], {
      env: { PATH: process.env.PATH, ...env },
    });

  it('mc:secret prints a whsec_ secret; mc:send signs an event with it and prints the answer', async () => {
    const { stdout } = await script('mc-secret', []);
    expect(stdout.trim()).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const p = player('Sender_1');
    const sent = await script(
      'mc-send',
      ['player.join', '--uuid', p.uuid, '--name', p.name, '--url', `${rig.server.url}/webhooks/minecraft`],
      { REDEMPTION_WEBHOOK_SECRET: WEBHOOK_SECRET },
    );
    expect(sent.stdout).toBe('HTTP 200\n{"ok":true,"message":"Welcome back!"}\n');
    const wrong = await script(
      'mc-send',
      ['player.quit', '--uuid', p.uuid, '--name', p.name, '--url', `${rig.server.url}/webhooks/minecraft`],
      { REDEMPTION_WEBHOOK_SECRET: stdout.trim() },
    );
    expect(wrong.stdout).toMatch(/^HTTP 401/);
    const row = await rig.db.db
      .selectFrom('minecraft_players')
      .select(['name', 'online'])
      .where('player_uuid', '=', p.uuid)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ name: 'Sender_1', online: true });
  });
});

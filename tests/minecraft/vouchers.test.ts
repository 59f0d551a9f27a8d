import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../../economy/ledger-check.ts';
import { createCatalogItem } from '../../economy/market/catalog.ts';
import { createListing } from '../../economy/market/listings.ts';
import { FakeServerTap } from '../fakes/servertap.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { TEST_GUILD_ID, buttonClick, slashCommand, type Actor } from '../../playground/interactions.ts';
import { until } from '../helpers/wait.ts';
import { admin, settings, systemBalance } from '../market/fixtures.ts';
import { customIds, marketClient, text } from '../market/discord-client.ts';
import { SERVER_KEY, WEBHOOK_SECRET, linkThroughDiscord, player, pluginClient } from './helpers.ts';

let rig: InteractionServer;
let servertap: FakeServerTap;
let listingId: string;

const client = marketClient(() => rig, 620000000000000000n);
const plugin = pluginClient(() => rig);

beforeAll(async () => {
  servertap = await FakeServerTap.start(SERVER_KEY);
  rig = await startInteractionServer({
    env: {
      RATE_LIMIT_ACTIONS: '10000',
      GUILD_ID: TEST_GUILD_ID,
      REDEMPTION_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MINECRAFT_API_URL: servertap.url,
      MINECRAFT_API_KEY: SERVER_KEY,
      VOUCHER_TIMEOUT_H: '1',
      MARKET_SWEEP_EVERY_S: '5',
      MINECRAFT_SWEEP_EVERY_S: '5',
    },
  });
  const boss = client.actor();
  const bossId = await client.fund(boss, 0);
  const item = await createCatalogItem(rig.db.db, admin(bossId), {
    name: 'Diamond',
    kind: 'minecraft_item',
    minecraftItem: 'minecraft:diamond',
    minecraftCommand: 'give {player} minecraft:diamond {qty}',
    basePrice: 100,
  });
  const listing = await createListing(rig.db.db, settings, admin(bossId), {
    catalogItemId: item.id,
    unitPrice: 100,
    quantity: 50,
    official: true,
  });
  listingId = listing.id;
});

afterAll(async () => {
  if (rig) expect((await checkLedger(rig.db.db)).ok).toBe(true);
  await rig?.stop();
  await servertap?.close();
});

/** A linked, funded buyer. */
async function buyer(name: string, coins = 1000) {
  const actor = client.actor();
  const userId = await client.fund(actor, coins);
  const p = player(name);
  expect((await linkThroughDiscord(client, plugin, actor, p)).status).toBe(200);
  return { actor, userId, p };
}

/** Buys `qty` diamonds through Discord; returns the order id and the voucher code from the answer. */
async function buyDiamonds(actor: Actor, qty = 1) {
  const { orderId } = await client.buy(actor, listingId, qty);
  const voucher = await rig.db.db
    .selectFrom('minecraft_vouchers')
    .select(['id', 'code'])
    .where('order_id', '=', orderId)
    .executeTakeFirstOrThrow();
  return { orderId, code: voucher.code, voucherId: String(voucher.id) };
}

const voucherState = async (id: string) =>
  (
    await rig.db.db
      .selectFrom('minecraft_vouchers')
      .select('state')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).state;

describe('Minecraft vouchers and delivery', () => {
  it('refuses command templates that could run a second command or use unknown placeholders', async () => {
    for (const minecraftCommand of [
      'give {player} diamond 1; op {player}',
      'give {player} diamond 1 && op {player}',
      'give {player} diamond 1 | op {player}',
      'give {player} diamond 1\nop {player}',
      'give {player} diamond {amount}',
      'give {player diamond 1',
      'give {{player}} diamond 1',
    ]) {
      await expect(
        createCatalogItem(rig.db.db, admin('1000'), {
          name: `Bad ${minecraftCommand}`.slice(0, 100),
          kind: 'minecraft_item',
          minecraftItem: 'minecraft:diamond',
          minecraftCommand,
          basePrice: 10,
        }),
      ).rejects.toMatchObject({ code: 'invalid_input' });
    }
  });

  it('a voucher bought, shown privately, in /orders and by DM; redeemed by the buyer in game, delivered, escrow posted', async () => {
    const dan = await buyer('Diamond_Dan');
    const other = await buyer('Other_Guy');
    servertap.join(dan.p.uuid, dan.p.name);
    const burnBefore = await systemBalance(rig.db.db, '4');

    const prompt = await client.send(buttonClick(`market:buy:${listingId}`, dan.actor), 4);
    const placed = await client.send(
      buttonClick(
        customIds(prompt).find((c) => c.startsWith('market:confirm:'))!,
        dan.actor,
      ),
      7,
    );
    const code = /`([A-Z2-9]{4}(?:-[A-Z2-9]{4}){3})`/.exec(placed.content!)![1]!;
    expect(placed.content).toContain(`/coinhub redeem ${code}`);
    expect(customIds(placed).some((c) => c.startsWith('mc:deliver:'))).toBe(true);
    expect(text(await client.send(slashCommand('orders', dan.actor), 4))).toContain(code);
    await until('the voucher DM', () => client.dmsTo(dan.actor.id).find((m) => m.includes(code)));
    const orderId = /Order #(\d+)/.exec(text(placed))![1]!;
    expect(await client.balance(dan.userId)).toBe(900);

    const stolen = await plugin.event('voucher.redeem', { code, ...other.p });
    expect(stolen).toMatchObject({ status: 403, body: { error: { code: 'not_your_voucher' } } });

    // Two redemptions racing (say, a double click in game): one is accepted, one delivery.
    const raced = await Promise.all([
      plugin.event('voucher.redeem', { code: code.toLowerCase(), ...dan.p }),
      plugin.event('voucher.redeem', { code, ...dan.p }),
    ]);
    expect(raced.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(raced.find((r) => r.status === 409)!.body.error!.code).toBe('voucher_used');

    await until('the order completes', async () => (await client.order(orderId)).state === 'completed');
    expect(servertap.commands.filter((c) => c === 'give Diamond_Dan minecraft:diamond 1')).toHaveLength(1);
    expect(await systemBalance(rig.db.db, '4')).toBe(burnBefore + 100);
    expect(await client.balance(dan.userId)).toBe(900);
    const again = await plugin.event('voucher.redeem', { code, ...dan.p });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'voucher_used' } } });
  });

  it('an offline player gets the delivery when they join; Deliver now redeems from Discord', async () => {
    const eve = await buyer('Eve_offline');
    const { orderId, voucherId } = await buyDiamonds(eve.actor, 3);
    const now = await client.send(buttonClick(`mc:deliver:${voucherId}`, eve.actor), 4);
    expect(now.content).toMatch(/On its way to Eve_offline/);
    await until(
      'the voucher waits for the player',
      async () => (await voucherState(voucherId)) === 'waiting',
    );
    expect(servertap.commands.some((c) => c.includes('Eve_offline'))).toBe(false);

    servertap.join(eve.p.uuid, eve.p.name);
    const joined = await plugin.event('player.join', eve.p);
    expect(joined.body.message).toBe('Welcome back! 1 purchase is on the way.');
    await until('the order completes', async () => (await client.order(orderId)).state === 'completed');
    expect(servertap.commands.filter((c) => c === 'give Eve_offline minecraft:diamond 3')).toHaveLength(1);
  });

  it('a command the server refuses is refunded at once; /admin deliveries lists, retries and refunds', async () => {
    const fay = await buyer('Fay_refused');
    servertap.join(fay.p.uuid, fay.p.name);
    servertap.refuse = 'Fay_refused';
    const { orderId, code } = await buyDiamonds(fay.actor);
    expect((await plugin.event('voucher.redeem', { code, ...fay.p })).status).toBe(200);
    await until('the refund', async () => (await client.order(orderId)).state === 'refunded');
    expect(await client.order(orderId)).toMatchObject({ refund_reason: 'delivery_failed' });
    expect(await client.balance(fay.userId)).toBe(1000);
    servertap.refuse = null;

    const gus = await buyer('Gus_admin');
    const boss = client.actor({ admin: true });
    await client.fund(boss, 0);
    const { orderId: gusOrder, voucherId } = await buyDiamonds(gus.actor);
    await client.send(buttonClick(`mc:deliver:${voucherId}`, gus.actor), 4);
    await until('waiting', async () => (await voucherState(voucherId)) === 'waiting');
    const list = await client.send(slashCommand('admin', boss, {}, 'deliveries'), 4);
    expect(list.content).toContain(`#${voucherId} · order #${gusOrder}`);
    expect(list.content).toContain('**waiting**');
    const plain = await client.send(slashCommand('admin', gus.actor, {}, 'deliveries'), 4);
    expect(plain.content).toMatch(/You need a Coinhub role/);
    const retried = await client.send(
      slashCommand('admin', boss, { action: 'retry', voucher: Number(voucherId) }, 'deliveries'),
      4,
    );
    expect(retried.content).toMatch(/queued again/);
    await until('waiting again (still offline)', async () => (await voucherState(voucherId)) === 'waiting');
    const refunded = await client.send(
      slashCommand(
        'admin',
        boss,
        { action: 'refund', voucher: Number(voucherId), reason: 'never joins' },
        'deliveries',
      ),
      4,
    );
    expect(refunded.content).toMatch(/refunded/);
    expect(await client.order(gusOrder)).toMatchObject({ state: 'refunded', refund_reason: 'admin_refund' });
    expect(await client.balance(gus.userId)).toBe(1000);
  });

  it('server down: the delivery is retried, then refunded exactly once when the voucher times out', async () => {
    const hal = await buyer('Hal_down');
    servertap.join(hal.p.uuid, hal.p.name);
    servertap.down = true;
    const { orderId, code } = await buyDiamonds(hal.actor, 2);
    expect(await client.balance(hal.userId)).toBe(800);
    const calls = () => servertap.calls.filter((c) => c.status === 503).length;
    const before = calls();
    expect((await plugin.event('voucher.redeem', { code, ...hal.p })).status).toBe(200);
    await until('two failed attempts', () => calls() >= before + 2, 30_000);
    expect((await client.order(orderId)).state).toBe('pending');

    rig.setClockOffset(61 * 60_000);
    await until(
      'the refund at the timeout',
      async () => (await client.order(orderId)).state === 'refunded',
      30_000,
    );
    servertap.down = false;
    expect(await client.order(orderId)).toMatchObject({ refund_reason: 'escrow_expired' });
    expect(await client.balance(hal.userId)).toBe(1000);
    const refunds = await rig.db.db
      .selectFrom('transfers')
      .select('id')
      .where('idempotency_key', '=', `market:refund:${orderId}`)
      .execute();
    expect(refunds).toHaveLength(1);
    expect(servertap.commands.some((c) => c.includes('Hal_down'))).toBe(false);
  });
});

import { InteractionType } from 'discord-api-types/v10';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../../economy/ledger-check.ts';
import { REDIS_URL } from '../helpers/env.ts';
import {
  TEST_BOT_TOKEN,
  startInteractionServer,
  type InteractionServer,
} from '../helpers/interaction-server.ts';
import {
  TEST_APPLICATION_ID,
  TEST_GUILD_ID,
  buttonClick,
  modalSubmit,
  slashCommand,
  snowflake,
} from '../helpers/interactions.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { until } from '../helpers/wait.ts';
import { customIds, insertOfficialListing, marketClient, text } from './discord-client.ts';

const SHOP_CHANNEL = '910000000000000001';
const ROLE_ID = '910000000000000002';
let rig: InteractionServer;
let second: ServerProcess;
const secondClock = path.join(mkdtempSync(path.join(tmpdir(), 'coinhub-clock-')), 'offset');
const setClock = (ms: number) => {
  rig.setClockOffset(ms);
  writeFileSync(secondClock, String(ms));
};
const env = {
  RATE_LIMIT_ACTIONS: '10000',
  GUILD_ID: TEST_GUILD_ID,
  MARKET_FEE: '5',
  ESCROW_TIMEOUT_MIN: '60',
  MARKET_SWEEP_EVERY_S: '5',
};

beforeAll(async () => {
  rig = await startInteractionServer({ env });
  rig.discord.addGuild(TEST_GUILD_ID, [{ id: SHOP_CHANNEL, name: 'shop', type: 0 }]);
  await rig.db.db
    .insertInto('guild_settings')
    .values({ guild_id: TEST_GUILD_ID, shop_channel_id: SHOP_CHANNEL })
    .execute();
  // A second process (API and worker) on the same database and queues: timers must still fire exactly once.
  writeFileSync(secondClock, '0');
  second = await startServer({
    DATABASE_URL: rig.db.url,
    REDIS_URL,
    REDIS_PREFIX: rig.redisPrefix,
    DISCORD_PUBLIC_KEY: rig.signer.publicKeyHex,
    DISCORD_API_BASE: rig.discord.url,
    DISCORD_TOKEN: TEST_BOT_TOKEN,
    DISCORD_CLIENT_ID: TEST_APPLICATION_ID,
    TEST_CLOCK_OFFSET_FILE: secondClock,
    ...env,
  });
});

afterAll(async () => {
  await second?.stop();
  await rig?.stop();
});

const { actor, send, fund, balance, list, buy, order, dmsTo } = marketClient(() => rig, 500000000000000000n);

describe('the market through Discord', () => {
  it('sell, buy with a confirm step, deliver, confirm: coins, fee, #shop message and DMs', async () => {
    const seller = actor();
    const buyer = actor();
    const sellerId = await fund(seller, 0);
    const buyerId = await fund(buyer, 1000);
    const listingId = await list(seller, 'Diamond sword', 120, 3);

    const shopMessage = await until('the #shop message', () => rig.discord.channelMessages(SHOP_CHANNEL)[0]);
    expect(JSON.stringify(shopMessage)).toContain('Diamond sword');

    const { orderId, confirm } = await buy(buyer, listingId, 2);
    expect(await order(orderId)).toMatchObject({ state: 'pending', quantity: 2, total: '240', fee: '12' });
    expect(await balance(buyerId)).toBe(760);
    // A second click on the same Confirm buys nothing more.
    const again = await send(buttonClick(confirm, buyer), 7);
    expect(text(again)).toContain(`Order #${orderId}`);
    expect(await balance(buyerId)).toBe(760);

    await until('the #shop edit', () =>
      rig.discord
        .callsTo('PATCH', new RegExp(`/channels/${SHOP_CHANNEL}/messages/`))
        .find((c) => JSON.stringify(c.body).includes('1 of 3')),
    );
    await until('the seller DM', () => dmsTo(seller.id).find((m) => m.includes('New order')));
    await until('the buyer DM', () => dmsTo(buyer.id).find((m) => m.includes('You ordered')));

    const mine = await send(slashCommand('orders', seller), 4);
    expect(text(mine)).toContain(`Order #${orderId}: 2 × Diamond sword`);
    expect(customIds(mine)).toContain(`market:order:deliver:${orderId}`);
    const notMine = await send(buttonClick(`market:order:deliver:${orderId}`, buyer), 4);
    expect(notMine.content).toMatch(/Only the seller/);
    const delivered = await send(buttonClick(`market:order:deliver:${orderId}`, seller), 4);
    expect(delivered.content).toMatch(/Marked as delivered/);
    const done = await send(buttonClick(`market:order:received:${orderId}`, buyer), 4);
    expect(done.content).toMatch(/complete/);
    expect(await order(orderId)).toMatchObject({ state: 'completed' });
    expect(await balance(sellerId)).toBe(228);
    await until('the completion DM', () => dmsTo(seller.id).find((m) => m.includes('228 coins paid to you')));
  });

  it('the buyer cancels before delivery and the stock comes back; the seller cannot buy their own listing', async () => {
    const seller = actor();
    const buyer = actor();
    await fund(seller, 0);
    const buyerId = await fund(buyer, 500);
    const listingId = await list(seller, 'Elytra', 300, 1);
    const own = await send(buttonClick(`market:buy:${listingId}`, seller), 4);
    expect(own.content).toMatch(/cannot buy your own/);
    const { orderId } = await buy(buyer, listingId);
    const listing = () =>
      rig.db.db.selectFrom('listings').selectAll().where('id', '=', listingId).executeTakeFirstOrThrow();
    expect(await listing()).toMatchObject({ quantity_left: 0, state: 'sold_out' });
    const cancelled = await send(buttonClick(`market:order:bcancel:${orderId}`, buyer), 4);
    expect(cancelled.content).toMatch(/coins are back/);
    expect(await balance(buyerId)).toBe(500);
    expect(await listing()).toMatchObject({ quantity_left: 1, state: 'active' });
  });

  it('a dispute through the form; a refusal is an ephemeral message and changes nothing', async () => {
    const seller = actor();
    const buyer = actor();
    await fund(seller, 0);
    const buyerId = await fund(buyer, 50);
    const listingId = await list(seller, 'Enchanted book', 40, 5);
    const { orderId } = await buy(buyer, listingId);
    const tooPoor = await send(buttonClick(`market:buy:${listingId}`, buyer), 4);
    const confirm = customIds(tooPoor).find((c) => c.startsWith('market:confirm:'))!;
    const refused = await send(buttonClick(confirm, buyer), 7);
    expect(refused.content).toBe('Not bought: You need 40 coins but have 10 coins.');
    expect(await balance(buyerId)).toBe(10);

    await send(buttonClick(`market:order:deliver:${orderId}`, seller), 4);
    const form = await send(buttonClick(`market:order:dispute:${orderId}`, buyer), 9);
    expect(form.custom_id).toBe(`market:dispute:${orderId}`);
    const disputed = await send(
      modalSubmit(`market:dispute:${orderId}`, buyer, { reason: 'It is not enchanted' }),
      4,
    );
    expect(disputed.content).toMatch(/Problem reported/);
    expect(await order(orderId)).toMatchObject({ state: 'disputed', dispute_reason: 'It is not enchanted' });
    // The seller concedes: cancelling refunds the buyer and returns the stock.
    const conceded = await send(buttonClick(`market:order:scancel:${orderId}`, seller), 4);
    expect(conceded.content).toMatch(/buyer got their coins back/);
    expect(await order(orderId)).toMatchObject({ state: 'refunded', refund_reason: 'seller_cancelled' });
    expect(await balance(buyerId)).toBe(50);
    await until('the refund DM', () => dmsTo(buyer.id).find((m) => m.includes('40 coins returned to you')));
  });

  it('the hub Shop button and /shop search show listings; a role from the server shop is granted and delivered by itself', async () => {
    const admin = actor();
    const buyer = actor();
    await fund(admin, 0);
    const buyerId = await fund(buyer, 5000);
    const browser = await send(buttonClick('hub:shop', buyer), 4);
    expect(text(browser)).toMatch(/Shop/);
    expect(customIds(browser)).toContain('market:open');

    const item = await rig.db.db
      .insertInto('catalog_items')
      .values({ name: 'VIP', kind: 'discord_role', role_id: ROLE_ID, base_price: 1000 })
      .returning('id')
      .executeTakeFirstOrThrow();
    rig.discord.route('PUT', '/guilds/:guild/members/:user/roles/:role', () => ({
      status: 204,
      body: undefined,
    }));
    // Players cannot resell the role: /sell does not suggest it, refuses it, and its form is refused too.
    const seller = actor();
    await fund(seller, 0);
    const suggestions = await rig.send({
      ...slashCommand('sell', seller),
      type: InteractionType.ApplicationCommandAutocomplete,
      data: {
        id: snowflake(),
        name: 'sell',
        type: 1,
        options: [{ name: 'item', type: 3, value: 'vi', focused: true }],
      },
    });
    expect(JSON.stringify(suggestions.body)).not.toContain(`"value":"${item.id}"`);
    expect((await send(slashCommand('sell', seller, { item: String(item.id) }), 4)).content).toBe(
      'Pick a catalog item from the suggestions.',
    );
    const resold = await send(
      modalSubmit(`market:sell:${item.id}`, seller, {
        title: 'VIP',
        description: '',
        price: '900',
        quantity: '2',
      }),
      4,
    );
    expect(resold.content).toBe('VIP is sold only by the server shop; players cannot list it.');
    await insertOfficialListing(rig, String(item.id), 'VIP', 900, 2);

    const found = await send(slashCommand('shop', buyer, { query: 'vip' }), 4);
    const listingId = customIds(found)
      .find((c) => c.startsWith('market:buy:'))!
      .split(':')[2]!;
    const { orderId } = await buy(buyer, listingId);
    await until(
      'the role grant',
      () =>
        rig.discord.callsTo(
          'PUT',
          new RegExp(`/guilds/${TEST_GUILD_ID}/members/${buyer.id}/roles/${ROLE_ID}`),
        )[0],
    );
    await until('automatic delivery', async () => (await order(orderId)).state === 'delivered');
    expect(await balance(buyerId)).toBe(4100);
  });

  it('an undelivered order expires once, with two worker processes and the sweeper running', async () => {
    const seller = actor();
    const buyer = actor();
    await fund(seller, 0);
    const buyerId = await fund(buyer, 100);
    const listingId = await list(seller, 'Cake', 25, 4);
    const { orderId } = await buy(buyer, listingId, 2);
    expect(await balance(buyerId)).toBe(50);
    setClock(61 * 60_000);
    await until('the escrow expiry', async () => (await order(orderId)).state === 'refunded', 20_000);
    expect(await order(orderId)).toMatchObject({ refund_reason: 'escrow_expired' });
    expect(await balance(buyerId)).toBe(100);
    const hold = (await order(orderId)).hold_transfer_id;
    const voids = await rig.db.db
      .selectFrom('transfers')
      .select('id')
      .where('pending_id', '=', hold)
      .execute();
    expect(voids).toHaveLength(1);
    await until('the refund DM', () => dmsTo(buyer.id).find((m) => m.includes('refunded')));
    setClock(0);
    expect((await checkLedger(rig.db.db)).ok).toBe(true);
  });
});

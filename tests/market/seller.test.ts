import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListing } from '../../economy/market/listings.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import {
  TEST_GUILD_ID,
  buttonClick,
  modalSubmit,
  slashCommand,
  type Actor,
} from '../helpers/interactions.ts';
import { until } from '../helpers/wait.ts';
import {
  customIds,
  insertOfficialListing,
  insertRoleItem,
  marketClient,
  text,
  type Data,
} from './discord-client.ts';
import { admin, freeze, settings } from './fixtures.ts';

const SHOP_CHANNEL = '920000000000000001';
const ROLE_ID = '920000000000000002';
let rig: InteractionServer;
const { actor, send, fund, balance, list, buy, order, listing, dmsTo } = marketClient(
  () => rig,
  600000000000000000n,
);

beforeAll(async () => {
  rig = await startInteractionServer({
    env: { RATE_LIMIT_ACTIONS: '10000', GUILD_ID: TEST_GUILD_ID, PRICE_FLOOR_PCT: '50', LOG_LEVEL: 'info' },
  });
  rig.discord.addGuild(TEST_GUILD_ID, [{ id: SHOP_CHANNEL, name: 'shop', type: 0 }]);
  await rig.db.db
    .insertInto('guild_settings')
    .values({ guild_id: TEST_GUILD_ID, shop_channel_id: SHOP_CHANNEL })
    .execute();
});

afterAll(async () => {
  await rig?.stop();
});

const click = (customId: string, who: Actor, type = 4) => send(buttonClick(customId, who), type);

/** The #shop message of a listing, once the worker has posted it. */
/** The #shop message of a listing, once the worker has saved its id (the fake shows it before that). */
const shopMessage = (title: string) =>
  until(`the #shop message of ${title}`, async () => {
    const message = rig.discord
      .channelMessages(SHOP_CHANNEL)
      .find((m) => JSON.stringify(m.embeds).includes(title));
    if (!message) return undefined;
    const saved = await rig.db.db
      .selectFrom('listings')
      .select('id')
      .where('shop_message_id', '=', message.id)
      .executeTakeFirst();
    return saved && message;
  });

/** Waits for an edit of a #shop message, after the first `seen` edits, whose body contains `needle`. */
const shopEdit = (messageId: string, seen: number, needle: string) =>
  until(`a #shop edit with ${needle}`, () =>
    rig.discord
      .callsTo('PATCH', new RegExp(`/channels/${SHOP_CHANNEL}/messages/${messageId}$`))
      .slice(seen)
      .find((c) => JSON.stringify(c.body).includes(needle)),
  );
const shopEdits = (messageId: string) =>
  rig.discord.callsTo('PATCH', new RegExp(`/channels/${SHOP_CHANNEL}/messages/${messageId}$`)).length;

/** The server's JSON log lines with this message (and order id, when given). */
const logged = (msg: string, orderId?: string) =>
  rig.server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; orderId?: string })
    .filter((l) => l.msg === msg && (orderId === undefined || l.orderId === orderId));

const reprice = (listingId: string, who: Actor, price: string) =>
  send(modalSubmit(`market:price:${listingId}`, who, { price }), 4);

describe('seller controls through /listings', () => {
  it('the seller pauses, resumes, reprices and ends a listing; #shop follows each change', async () => {
    const seller = actor();
    const buyer = actor();
    await fund(seller, 0);
    await fund(buyer, 1000);
    const id = await list(seller, 'Iron pickaxe', 50, 5);
    const message = await shopMessage('Iron pickaxe');

    const mine = await send(slashCommand('listings', seller), 4);
    expect(text(mine)).toContain('Iron pickaxe');
    expect(customIds(mine)).toEqual(
      expect.arrayContaining([`market:pause:${id}`, `market:reprice:${id}`, `market:end:${id}`]),
    );

    let edits = shopEdits(message.id);
    const paused = await click(`market:pause:${id}`, seller);
    expect(paused.content).toBe('Paused **Iron pickaxe**: nobody can buy it until you resume it.');
    expect(customIds(paused)).toContain(`market:resume:${id}`);
    expect(await listing(id)).toMatchObject({ state: 'paused' });
    await shopEdit(message.id, edits, '"label":"Paused"');
    expect((await click(`market:buy:${id}`, buyer)).content).toMatch(/not on sale/);
    expect((await click(`market:pause:${id}`, seller)).content).toBe(
      '**Iron pickaxe** was already paused; nothing changed.',
    );

    edits = shopEdits(message.id);
    const resumed = await click(`market:resume:${id}`, seller);
    expect(resumed.content).toBe('Resumed **Iron pickaxe**: it is on sale again.');
    expect(await listing(id)).toMatchObject({ state: 'active' });
    await shopEdit(message.id, edits, '"label":"Buy"');

    const form = await click(`market:reprice:${id}`, seller, 9);
    expect(form.custom_id).toBe(`market:price:${id}`);
    expect(JSON.stringify(form.components)).toContain('"value":"50"');
    edits = shopEdits(message.id);
    expect((await reprice(id, seller, '70')).content).toBe('**Iron pickaxe** now costs 70 coins each.');
    expect(await listing(id)).toMatchObject({ unit_price: '70' });
    await shopEdit(message.id, edits, '70 coins each');

    const prompt = await click(`market:end:${id}`, seller);
    expect(text(prompt)).toMatch(/End this listing\?/);
    expect((await click('market:endno', seller, 7)).content).toMatch(/Kept/);
    expect(await listing(id)).toMatchObject({ state: 'active' });

    // A double click on End: the listing ends once, and a later click changes nothing.
    edits = shopEdits(message.id);
    const confirm = customIds(prompt).find((c) => c.startsWith('market:endok:'))!;
    const answers = await Promise.all([click(confirm, seller, 7), click(confirm, seller, 7)]);
    expect(answers.some((a) => a.content?.startsWith('Ended **Iron pickaxe**.'))).toBe(true);
    const ended = await listing(id);
    expect(ended).toMatchObject({ state: 'cancelled' });
    expect(ended.ended_at).not.toBeNull();
    expect((await click(confirm, seller, 7)).content).toBe(
      '**Iron pickaxe** had already ended; nothing changed.',
    );
    expect((await listing(id)).ended_at).toEqual(ended.ended_at);
    await shopEdit(message.id, edits, '"label":"Ended"');
    const posts = rig.discord.callsTo('POST', new RegExp(`/channels/${SHOP_CHANNEL}/messages$`));
    expect(posts.filter((c) => JSON.stringify(c.body).includes('Iron pickaxe'))).toHaveLength(1);
    expect((await send(slashCommand('listings', seller), 4)).content).toMatch(/no open listings/);
    expect(rig.discord.problems).toEqual([]);
  });

  it('refuses anybody but the seller, a frozen seller, and members who may not manage official listings', async () => {
    const seller = actor();
    const other = actor();
    const sellerId = await fund(seller, 0);
    await fund(other, 0);
    const id = await list(seller, 'Golden apple', 30, 2);
    for (const button of ['pause', 'resume', 'reprice', 'end', 'endok']) {
      expect((await click(`market:${button}:${id}`, other)).content).toBe(
        'Only the seller can change this listing.',
      );
    }
    expect((await reprice(id, other, '5')).content).toBe('Only the seller can change this listing.');
    expect(await listing(id)).toMatchObject({ state: 'active', unit_price: '30' });

    await freeze(rig.db.db, sellerId);
    const frozen = 'Your account is frozen, so you cannot change your listings.';
    expect((await click(`market:pause:${id}`, seller)).content).toBe(frozen);
    expect((await click(`market:reprice:${id}`, seller)).content).toBe(frozen);
    expect((await reprice(id, seller, '40')).content).toBe(frozen);
    expect(await listing(id)).toMatchObject({ state: 'active', unit_price: '30' });

    const boss = actor({ admin: true });
    const bossId = await fund(boss, 0);
    const official = await createListing(rig.db.db, settings, admin(bossId), {
      official: true,
      title: 'Server banner',
      unitPrice: 500,
      quantity: 10,
    });
    expect((await send(slashCommand('listings', other, { official: true }), 4)).content).toMatch(
      /manage the market/,
    );
    expect((await click(`market:pause:${official.id}`, other)).content).toMatch(/manage the market/);
    const shown = await send(slashCommand('listings', boss, { official: true }), 4);
    expect(text(shown)).toContain('Server banner');
    expect((await click(`market:pause:${official.id}`, boss)).content).toMatch(/^Paused \*\*Server banner/);
    const audit = await rig.db.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'market.listing.pause')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('a reprice below the floor is refused with the floor stated, and nothing changes', async () => {
    const seller = actor();
    await fund(seller, 0);
    const item = await rig.db.db
      .insertInto('catalog_items')
      .values({ name: 'Netherite ingot', kind: 'other', base_price: 100 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = await list(seller, 'Netherite ingot', 80, 2, String(item.id));
    const message = await shopMessage('Netherite ingot');
    // The worker records the message id on the listing after Discord answers the post: snapshot after that.
    const before = await until('the listing to record its #shop message', async () => {
      const row = await listing(id);
      return row.shop_message_id === message.id ? row : undefined;
    });

    expect((await reprice(id, seller, '30')).content).toBe(
      'Netherite ingot cannot be listed below 50 coins each (50% of its base price of 100 coins).',
    );
    expect((await reprice(id, seller, 'cheap')).content).toBe('The price must be a whole number.');
    expect(await listing(id)).toEqual(before);
    expect((await reprice(id, seller, '50')).content).toBe('**Netherite ingot** now costs 50 coins each.');
    await shopEdit(message.id, 0, '50 coins each');
    expect(
      rig.discord
        .callsTo('PATCH', new RegExp(`/channels/${SHOP_CHANNEL}/messages/${message.id}$`))
        .filter((c) => JSON.stringify(c.body).includes('30 coins each')),
    ).toEqual([]);
  });
});

describe('order actions on the transaction feed', () => {
  const feedAction = async (action: 'refund' | 'fulfil', orderId: string, boss: Actor): Promise<Data> => {
    const { hold_transfer_id: hold } = await order(orderId);
    return send(
      modalSubmit(`feed:order:${action}:${orderId}:${hold}`, boss, { text: 'settled by staff' }),
      4,
    );
  };

  it('an admin refund DMs both sides and puts the stock back on #shop; a fulfil DMs both sides', async () => {
    const seller = actor();
    const buyer = actor();
    const boss = actor({ admin: true });
    await fund(seller, 0);
    const buyerId = await fund(buyer, 1000);
    await fund(boss, 0);
    const id = await list(seller, 'Beacon', 200, 1);
    const message = await shopMessage('Beacon');

    const first = await buy(buyer, id);
    await shopEdit(message.id, 0, '"label":"Sold out"');
    const edits = shopEdits(message.id);
    expect((await feedAction('refund', first.orderId, boss)).content).toMatch(
      /refunded: 200 coins back to the buyer/,
    );
    expect(await listing(id)).toMatchObject({ state: 'active', quantity_left: 1 });
    await shopEdit(message.id, edits, '"label":"Buy"');
    await until('the buyer refund DM', () => dmsTo(buyer.id).find((m) => m.includes('200 coins returned')));
    await until('the seller refund DM', () =>
      dmsTo(seller.id).find((m) => m.includes('was refunded to the buyer')),
    );

    const second = await buy(buyer, id);
    expect((await feedAction('fulfil', second.orderId, boss)).content).toMatch(/fulfilled/);
    expect(await order(second.orderId)).toMatchObject({ state: 'completed' });
    await until('the seller completion DM', () => dmsTo(seller.id).find((m) => m.includes('190 coins paid')));
    await until('the buyer completion DM', () => dmsTo(buyer.id).find((m) => m.includes('is complete.')));
    expect(await balance(buyerId)).toBe(800);
  });
});

describe('refunding a discord_role order after the role was granted', () => {
  const roleCalls = (method: string, who: Actor) =>
    rig.discord.callsTo(method, new RegExp(`/guilds/${TEST_GUILD_ID}/members/${who.id}/roles/${ROLE_ID}$`));
  let listingId: string;
  let seller: Actor;
  const boss = actor({ admin: true });
  /** The member whose role removal Discord refuses (Missing Permissions). */
  let refusedMember = '';

  beforeAll(async () => {
    rig.discord.route('PUT', '/guilds/:guild/members/:user/roles/:role', () => ({ status: 204 }));
    rig.discord.route('DELETE', '/guilds/:guild/members/:user/roles/:role', ({ params }) =>
      params.user === refusedMember
        ? { status: 403, body: { code: 50013, message: 'Missing Permissions' } }
        : { status: 204 },
    );
    const itemId = await insertRoleItem(rig, ROLE_ID);
    // The server shop sells the role; a Discord Administrator (an owner) acts as its seller.
    seller = actor({ admin: true });
    await fund(seller, 0);
    await fund(boss, 0);
    listingId = await insertOfficialListing(rig, itemId, 'VIP', 100, 10);
  });

  /** Buys one VIP and waits until the worker granted the role and marked the order delivered. */
  async function boughtRole(buyer: Actor): Promise<string> {
    const { orderId } = await buy(buyer, listingId);
    await until('the role grant and delivery', async () => (await order(orderId)).state === 'delivered');
    expect(roleCalls('PUT', buyer).length).toBeGreaterThan(0);
    return orderId;
  }

  const adminRefund = async (orderId: string): Promise<Data> => {
    const { hold_transfer_id: hold } = await order(orderId);
    return send(modalSubmit(`feed:order:refund:${orderId}:${hold}`, boss, { text: 'chargeback' }), 4);
  };

  it('an admin refund removes the role with exactly one DELETE; a repeat changes nothing', async () => {
    const buyer = actor();
    const buyerId = await fund(buyer, 1000);
    const orderId = await boughtRole(buyer);
    expect((await adminRefund(orderId)).content).toMatch(/refunded: 100 coins back to the buyer/);
    expect((await adminRefund(orderId)).content).toMatch(/already refunded; nothing changed/);
    await until('the role removal', () => logged('role of a refunded order removed', orderId)[0]);
    expect(roleCalls('DELETE', buyer)).toHaveLength(1);
    expect(await order(orderId)).toMatchObject({ state: 'refunded', refund_reason: 'admin_refund' });
    expect(await balance(buyerId)).toBe(1000);
  });

  it('a seller cancelling after delivery removes the role, unless another order still pays for it', async () => {
    const buyer = actor();
    await fund(buyer, 1000);
    const first = await boughtRole(buyer);
    const second = await boughtRole(buyer);
    const cancelled = await click(`market:order:scancel:${first}`, seller);
    expect(cancelled.content).toMatch(/buyer got their coins back/);
    await until(
      'the kept role',
      () => logged('refunded role kept: another order of the buyer still pays for it', first)[0],
    );
    expect(roleCalls('DELETE', buyer)).toHaveLength(0);
    expect((await click(`market:order:scancel:${second}`, seller)).content).toMatch(/coins back/);
    await until('the role removal', () => logged('role of a refunded order removed', second)[0]);
    expect(roleCalls('DELETE', buyer)).toHaveLength(1);
  });

  it('Discord refusing the removal is logged and the refund stands', async () => {
    const buyer = actor();
    const buyerId = await fund(buyer, 1000);
    refusedMember = buyer.id;
    const orderId = await boughtRole(buyer);
    expect((await adminRefund(orderId)).content).toMatch(/refunded/);
    await until(
      'the logged refusal',
      () => logged('Discord refused to remove the role of a refunded order; the refund stands', orderId)[0],
    );
    expect(roleCalls('DELETE', buyer)).toHaveLength(1);
    expect(await order(orderId)).toMatchObject({ state: 'refunded' });
    expect(await balance(buyerId)).toBe(1000);
  });
});

import { ApplicationCommandOptionType, ComponentType } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../economy/ledger.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import { createListing } from '../../economy/market/listings.ts';
import { Market } from '../../economy/market/market.ts';
import { balanceOf, fundWallets } from '../helpers/db.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import {
  buttonClick,
  discordUser,
  modalSubmit,
  slashCommand,
  TEST_GUILD_ID,
  type Actor,
} from '../helpers/interactions.ts';
import { until, waitFor } from '../helpers/wait.ts';
import { marketClient } from '../market/discord-client.ts';
import { settings as marketSettings, player } from '../market/fixtures.ts';
import { feedIds } from '../feed/helpers.ts';

// System test: the real server (API and worker in one child process) behind signed HTTP, a fake Discord API.
let rig: InteractionServer;
let ledger: Ledger;
const FEED_CHANNEL = '940000000000000001';
const SHOP_CHANNEL = '940000000000000002';
const MOD_ROLE = '940000000000000010';
const VIEWER_ROLE = '940000000000000011';

const owner: Actor = { id: '500000000000000001', username: 'owner', admin: true };
const mod: Actor = { id: '500000000000000002', username: 'mod', roles: [MOD_ROLE] };
const viewer: Actor = { id: '500000000000000003', username: 'viewer', roles: [VIEWER_ROLE] };
const member: Actor = { id: '500000000000000004', username: 'member' };
const alice: Actor = { id: '500000000000000005', username: 'alice' };
const bob: Actor = { id: '500000000000000006', username: 'bob' };

type Payload =
  ReturnType<typeof slashCommand> | ReturnType<typeof buttonClick> | ReturnType<typeof modalSubmit>;

type Option = { name: string; type: ApplicationCommandOptionType; value: string | number | boolean };
function subcommand(name: string, sub: string, actor: Actor, options: Option[], users: Actor[] = []) {
  const payload = slashCommand(name, actor) as ReturnType<typeof slashCommand> & {
    data: { options?: unknown[]; resolved?: unknown };
  };
  payload.data.options = [{ type: ApplicationCommandOptionType.Subcommand, name: sub, options }];
  if (users.length > 0)
    payload.data.resolved = { users: Object.fromEntries(users.map((u) => [u.id, discordUser(u)])) };
  return payload;
}
const userOpt = (u: Actor): Option => ({
  name: 'user',
  type: ApplicationCommandOptionType.User,
  value: u.id,
});
const str = (name: string, value: string): Option => ({
  name,
  type: ApplicationCommandOptionType.String,
  value,
});

async function send(payload: Payload) {
  const { body } = await rig.send(payload);
  const data = (body as { data?: { flags?: number } }).data;
  // Every user-facing answer is private; a modal is a form, not a message.
  if (body.type !== 9) expect(data?.flags).toBe(64);
  return body as { type: number; data: Record<string, unknown> & { content?: string; custom_id?: string } };
}
const click = (customId: string, actor: Actor) => send(buttonClick(customId, actor));
const submit = (customId: string, actor: Actor, text: string) => send(modalSubmit(customId, actor, { text }));

const userId = async (a: Actor) =>
  String(
    (
      await rig.db.db
        .selectFrom('users')
        .select('id')
        .where('discord_id', '=', a.id)
        .executeTakeFirstOrThrow()
    ).id,
  );
const balance = async (a: Actor) => balanceOf(rig.db.db, await userId(a));
const auditCount = async (action: string) =>
  Number(
    (
      await rig.db.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('action', '=', action)
        .executeTakeFirstOrThrow()
    ).n,
  );
/** A choice in the feed's "Act on a transaction…" menu. */
function pick(transferId: string, actor: Actor) {
  const payload = buttonClick('feed:pick', actor) as ReturnType<typeof buttonClick> & {
    data: { component_type: number; values?: string[] };
  };
  payload.data.component_type = ComponentType.StringSelect;
  payload.data.values = [transferId];
  return send(payload);
}

/** The action buttons of a transaction: on its own feed message, or from the menu of a coalesced one. */
async function actionsOf(transferId: string, actor: Actor): Promise<string> {
  const message = feedMessage(transferId)!;
  if (feedIds([message]).length === 1) return JSON.stringify(message.components);
  expect(JSON.stringify(message.components)).toContain('"custom_id":"feed:pick"');
  const panel = await pick(transferId, actor);
  expect(JSON.stringify(panel.data.embeds)).toContain(`#${transferId} ·`);
  return JSON.stringify(panel.data.components);
}

const feedMessage = (transferId: string) =>
  rig.discord.channelMessages(FEED_CHANNEL).find((m) => feedIds([m]).includes(transferId));

beforeAll(async () => {
  // Admins act in quick succession here; the per-user rate limit has its own test.
  rig = await startInteractionServer({ env: { GUILD_ID: TEST_GUILD_ID, RATE_LIMIT_ACTIONS: '1000' } });
  rig.discord.addGuild(TEST_GUILD_ID, [
    { id: FEED_CHANNEL, name: 'coin-transactions' },
    { id: SHOP_CHANNEL, name: 'shop' },
  ]);
  await rig.db.db
    .insertInto('guild_settings')
    .values({ guild_id: TEST_GUILD_ID, tx_channel_id: FEED_CHANNEL, shop_channel_id: SHOP_CHANNEL })
    .execute();
  ledger = new Ledger(rig.db.db);
  // Every actor's first interaction creates their wallet.
  for (const a of [owner, mod, viewer, member, alice, bob]) await send(slashCommand('coins', a));
  await fundWallets(ledger, [await userId(alice), await userId(bob)], 1000);
});

afterAll(async () => {
  if (rig) expect((await checkLedger(rig.db.db)).ok).toBe(true);
  await rig?.stop();
});

describe('/setup roles', () => {
  it('lets the owner map Discord roles, audited; nobody else may', async () => {
    const map = (actor: Actor, role: string, discordRole: string) =>
      send(
        subcommand('setup', 'roles', actor, [
          str('role', role),
          { name: 'discord_role', type: ApplicationCommandOptionType.Role, value: discordRole },
        ]),
      );
    expect((await map(member, 'admin', MOD_ROLE)).data.content).toMatch(/only admins|need a Coinhub role/i);
    const first = await map(owner, 'moderator', MOD_ROLE);
    expect(JSON.stringify(first.data.embeds)).toContain(`<@&${MOD_ROLE}> now grants **moderator**`);
    await map(owner, 'viewer', VIEWER_ROLE);
    // A moderator cannot promote themselves.
    expect((await map(mod, 'owner', MOD_ROLE)).data.content).toMatch(/change the role mapping/);
    const row = await rig.db.db
      .selectFrom('guild_settings')
      .select('role_map')
      .where('guild_id', '=', TEST_GUILD_ID)
      .executeTakeFirstOrThrow();
    expect(row.role_map).toEqual({ moderator: [MOD_ROLE], viewer: [VIEWER_ROLE] });
    expect(await auditCount('roles.change')).toBe(2);
    const shown = await send(subcommand('setup', 'roles', owner, []));
    expect(JSON.stringify(shown.data.embeds)).toContain(`**viewer**: <@&${VIEWER_ROLE}>`);
  });
});

describe('/admin and /audit', () => {
  it('adjust mints and burns for admins, refuses moderators privately, and audits', async () => {
    const adjust = (actor: Actor, amount: number) =>
      send(
        subcommand(
          'admin',
          'adjust',
          actor,
          [
            userOpt(alice),
            { name: 'amount', type: ApplicationCommandOptionType.Integer, value: amount },
            str('reason', 'prize'),
          ],
          [alice],
        ),
      );
    const before = await balance(alice);
    expect((await adjust(owner, 250)).data.content).toMatch(
      /Minted 250 coins to <@500000000000000005>: balance 1,000 → 1,250/,
    );
    expect((await adjust(owner, -50)).data.content).toMatch(/Burned 50 coins/);
    expect((await adjust(mod, 999)).data.content).toMatch(/need a Coinhub role that may adjust balances/);
    expect((await adjust(owner, -1_000_000)).data.content).toMatch(/Not enough coins/);
    expect(await balance(alice)).toBe(before + 200);
    expect(await auditCount('balance.adjust')).toBe(2);
  });

  it('freeze stops spending and receiving until unfreeze; both audited; /audit shows them to moderators only', async () => {
    const freeze = await send(
      subcommand('admin', 'freeze', mod, [userOpt(bob), str('reason', 'scam report')], [bob]),
    );
    expect(freeze.data.content).toMatch(/Froze <@500000000000000006>/);
    const again = await send(subcommand('admin', 'freeze', mod, [userOpt(bob), str('reason', 'x')], [bob]));
    expect(again.data.content).toMatch(/already frozen/);
    const spend = await ledger.submit({
      op: 'transfer',
      key: 'fz:1',
      debit: await userId(bob),
      credit: await userId(alice),
      amount: 1,
      reason: 'pay',
    });
    const receive = await ledger.submit({
      op: 'transfer',
      key: 'fz:2',
      debit: await userId(alice),
      credit: await userId(bob),
      amount: 1,
      reason: 'pay',
    });
    expect([spend.ok, receive.ok]).toEqual([false, false]);

    expect((await send(subcommand('admin', 'unfreeze', viewer, [userOpt(bob)], [bob]))).data.content).toMatch(
      /freeze and unfreeze/,
    );
    const unfreeze = await send(subcommand('admin', 'unfreeze', mod, [userOpt(bob)], [bob]));
    expect(unfreeze.data.content).toMatch(/Unfroze/);
    const spendAfter = await ledger.submit({
      op: 'transfer',
      key: 'fz:3',
      debit: await userId(bob),
      credit: await userId(alice),
      amount: 1,
      reason: 'pay',
    });
    expect(spendAfter.ok).toBe(true);

    const audit = (actor: Actor) => send(slashCommand('audit', actor, { user: { user: bob } }));
    const shown = JSON.stringify((await audit(mod)).data.embeds);
    expect(shown).toContain('**user.unfreeze**');
    expect(shown).toContain('**user.freeze**');
    expect(shown).toContain('scam report');
    expect(shown.indexOf('user.unfreeze')).toBeLessThan(shown.indexOf('user.freeze'));
    expect((await audit(viewer)).data.content).toMatch(/read the audit log/);
    expect((await audit(member)).data.content).toMatch(/read the audit log/);
  });
});

describe('actions on the feed', () => {
  it('a double click on Refund refunds once; the feed message shows the refund and who acted', async () => {
    const pay = await ledger.transfer({
      key: 'feed:pay',
      debit: await userId(alice),
      credit: await userId(bob),
      amount: 80,
      reason: 'pay',
    });
    expect(await waitFor(() => feedMessage(pay.transferId) !== undefined, 20_000)).toBe(true);
    expect(await actionsOf(pay.transferId, mod)).toContain(`feed:refund:${pay.transferId}`);

    // Anyone without the permission gets a private refusal, and nothing moves.
    for (const who of [viewer, member]) {
      expect((await click(`feed:refund:${pay.transferId}`, who)).data.content).toMatch(/refund transactions/);
      expect((await click(`feed:refund:confirm:${pay.transferId}`, who)).data.content).toMatch(
        /refund transactions/,
      );
    }
    const prompt = await click(`feed:refund:${pay.transferId}`, mod);
    expect(prompt.type).toBe(4);
    expect(JSON.stringify(prompt.data.components)).toContain(`feed:refund:confirm:${pay.transferId}`);

    const aliceBefore = await balance(alice);
    const [a, b] = await Promise.all([
      click(`feed:refund:confirm:${pay.transferId}`, mod),
      click(`feed:refund:confirm:${pay.transferId}`, mod),
    ]);
    const texts = [a.data.content, b.data.content].sort();
    expect(texts[0]).toMatch(/already refunded; nothing changed/);
    expect(texts[1]).toMatch(/Refunded 80 coins/);
    expect(await balance(alice)).toBe(aliceBefore + 80);
    const reversals = await rig.db.db
      .selectFrom('transfers')
      .select('id')
      .where('reverses_id', '=', pay.transferId)
      .execute();
    expect(reversals).toHaveLength(1);
    const rows = await rig.db.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'tx.refund')
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_role: 'moderator', source: 'discord', target_id: pay.transferId });

    const edited = await waitFor(() => feedMessage(pay.transferId)?.edited_timestamp != null, 20_000);
    expect(edited).toBe(true);
    const shown = JSON.stringify(feedMessage(pay.transferId)!.embeds);
    expect(shown).toContain('Refunded 80 coins by <@500000000000000002>');
    expect(await actionsOf(pay.transferId, mod)).not.toContain(`feed:refund:${pay.transferId}`);
  });

  it('Freeze asks the reason in a modal, freezes, and the feed shows it; Note adds a note', async () => {
    const pay = await ledger.transfer({
      key: 'feed:pay2',
      debit: await userId(alice),
      credit: await userId(bob),
      amount: 5,
      reason: 'pay',
    });
    expect(await waitFor(() => feedMessage(pay.transferId) !== undefined, 20_000)).toBe(true);
    const bobId = await userId(bob);
    const freezeId = `feed:freeze:${bobId}:${pay.transferId}`;
    expect(await actionsOf(pay.transferId, mod)).toContain(freezeId);
    expect((await pick(pay.transferId, member)).data.content).toMatch(/see the transaction feed/);

    expect((await click(freezeId, viewer)).data.content).toMatch(/freeze and unfreeze/);
    const modal = await click(freezeId, mod);
    expect(modal).toMatchObject({ type: 9, data: { custom_id: freezeId } });
    expect((await submit(freezeId, mod, 'chargeback')).data.content).toMatch(/Froze bob/);
    const user = await rig.db.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', bobId)
      .executeTakeFirstOrThrow();
    expect(user).toMatchObject({ frozen: true, frozen_reason: 'chargeback' });

    expect((await submit(`feed:note:${pay.transferId}`, viewer, 'hi')).data.content).toMatch(/add notes/);
    expect(
      (await submit(`feed:note:${pay.transferId}`, mod, 'checked with both players')).data.content,
    ).toMatch(/Note added/);

    expect(
      await waitFor(() => {
        const text = JSON.stringify(feedMessage(pay.transferId)?.embeds ?? []);
        return (
          text.includes('checked with both players') && text.includes('is frozen (by <@500000000000000002>)')
        );
      }, 20_000),
    ).toBe(true);
    expect(await actionsOf(pay.transferId, mod)).toContain(`feed:unfreeze:${bobId}:${pay.transferId}`);
    expect((await submit(`feed:unfreeze:${bobId}:${pay.transferId}`, mod, '')).data.content).toMatch(
      /Unfroze bob/,
    );
    expect(await auditCount('user.freeze')).toBe(2);
    expect(await auditCount('user.unfreeze')).toBe(2);
  });

  it('Fulfil on an order hold completes the order through the market, once', async () => {
    const market = new Market(rig.db.db, marketSettings);
    const listing = await createListing(rig.db.db, marketSettings, player(await userId(bob)), {
      title: 'Diamond sword',
      unitPrice: 100,
      quantity: 2,
    });
    const purchase = await market.buy(player(await userId(alice)), {
      key: 'feed-buy',
      listingId: listing.id,
      quantity: 1,
      expectedUnitPrice: 100,
    });
    const holdId = String(purchase.order.holdTransferId);
    expect(await waitFor(() => feedMessage(holdId) !== undefined, 20_000)).toBe(true);
    const fulfilId = `feed:order:fulfil:${purchase.order.id}:${holdId}`;
    const actions = await actionsOf(holdId, mod);
    expect(actions).toContain(fulfilId);
    expect(actions).toContain(`feed:listing:cancel:${listing.id}:${holdId}`);

    expect((await click(fulfilId, member)).data.content).toMatch(/fulfil orders/);
    expect((await click(fulfilId, mod)).type).toBe(9);
    const bobBefore = await balance(bob);
    const [a, b] = await Promise.all([
      submit(fulfilId, mod, 'delivered in game'),
      submit(fulfilId, mod, 'delivered in game'),
    ]);
    const answers = [a.data.content, b.data.content];
    expect(answers.filter((t) => /fulfilled: the seller is paid/.test(t ?? ''))).toHaveLength(1);
    expect(answers.filter((t) => /already completed; nothing changed/.test(t ?? ''))).toHaveLength(1);
    expect(await balance(bob)).toBe(bobBefore + 95);
    const order = await rig.db.db
      .selectFrom('orders')
      .select('state')
      .where('id', '=', purchase.order.id)
      .executeTakeFirstOrThrow();
    expect(order.state).toBe('completed');
    expect(
      await waitFor(
        () =>
          JSON.stringify(feedMessage(holdId)?.embeds ?? []).includes(
            `Order #${purchase.order.id} fulfilled by`,
          ),
        20_000,
      ),
    ).toBe(true);
    expect(rig.discord.problems).toEqual([]);
  });

  it('Refund on an order refunds it through the market and Cancel removes the listing; both audited', async () => {
    const market = new Market(rig.db.db, marketSettings);
    const listing = await createListing(rig.db.db, marketSettings, player(await userId(bob)), {
      title: 'Enchanted bow',
      unitPrice: 60,
      quantity: 3,
    });
    const aliceBefore = await balance(alice);
    const purchase = await market.buy(player(await userId(alice)), {
      key: 'feed-buy-2',
      listingId: listing.id,
      quantity: 1,
      expectedUnitPrice: 60,
    });
    const holdId = String(purchase.order.holdTransferId);
    expect(await waitFor(() => feedMessage(holdId) !== undefined, 20_000)).toBe(true);
    const refundId = `feed:order:refund:${purchase.order.id}:${holdId}`;
    const cancelId = `feed:listing:cancel:${listing.id}:${holdId}`;
    const actions = await actionsOf(holdId, mod);
    expect(actions).toContain(refundId);

    expect((await submit(refundId, viewer, 'no')).data.content).toMatch(/refund transactions/);
    expect((await submit(refundId, mod, 'seller unreachable')).data.content).toMatch(
      /refunded: 60 coins back/,
    );
    expect((await submit(refundId, mod, 'seller unreachable')).data.content).toMatch(/already refunded/);
    expect(await balance(alice)).toBe(aliceBefore);
    expect((await submit(cancelId, mod, 'suspicious listing')).data.content).toMatch(
      /is cancelled \(removed\)/,
    );
    const row = await rig.db.db
      .selectFrom('listings')
      .select('state')
      .where('id', '=', listing.id)
      .executeTakeFirstOrThrow();
    expect(row.state).toBe('removed');
    expect(await auditCount('market.order.admin_refund')).toBe(1);
    expect(await auditCount('market.listing.remove')).toBe(1);
    expect(
      await waitFor(() => {
        const text = JSON.stringify(feedMessage(holdId)?.embeds ?? []);
        return (
          text.includes(`Order #${purchase.order.id} refunded by`) &&
          text.includes(`Listing #${listing.id} cancelled by`)
        );
      }, 20_000),
    ).toBe(true);

    // A compact feed message offers "Act on a transaction…", which asks for the number and opens its panel.
    const panel = await submit('feed:pick:id', mod, `#${holdId}`);
    expect(JSON.stringify(panel.data.embeds)).toContain(`#${holdId} ·`);
    expect((await submit('feed:pick:id', member, `#${holdId}`)).data.content).toMatch(
      /see the transaction feed/,
    );
    expect((await submit('feed:pick:id', mod, 'nonsense')).data.content).toMatch(/No such transaction/);
  });

  it('Cancel listing marks the listing ended on its #shop message', async () => {
    const market = marketClient(() => rig, 0n);
    const listingId = await market.list(bob, 'Netherite pickaxe', 80, 2);
    const posted = await until(
      'the #shop message',
      async () => (await market.listing(listingId)).shop_message_id ?? undefined,
    );
    const purchase = await new Market(rig.db.db, marketSettings).buy(player(await userId(alice)), {
      key: 'feed-buy-3',
      listingId,
      quantity: 1,
      expectedUnitPrice: 80,
    });
    const holdId = String(purchase.order.holdTransferId);
    expect(await waitFor(() => feedMessage(holdId) !== undefined, 20_000)).toBe(true);
    const cancelId = `feed:listing:cancel:${listingId}:${holdId}`;
    expect(await actionsOf(holdId, mod)).toContain(cancelId);

    expect((await click(cancelId, mod)).type).toBe(9);
    expect((await submit(cancelId, mod, 'counterfeit')).data.content).toMatch(/is cancelled \(removed\)/);
    // The edit shows the listing removed, with its Buy button disabled.
    const edit = await until('the #shop edit', () =>
      rig.discord
        .callsTo('PATCH', new RegExp(`/channels/${SHOP_CHANNEL}/messages/${posted}$`))
        .find((c) => JSON.stringify(c.body).includes('Removed by an admin')),
    );
    expect(JSON.stringify(edit.body)).toContain('"disabled":true');
    expect(rig.discord.problems).toEqual([]);
  });
});

import { DefaultRestOptions } from '@discordjs/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf } from '../helpers/db.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { TEST_GUILD_ID, buttonClick, type Actor } from '../helpers/interactions.ts';
import { until } from '../helpers/wait.ts';
import { insertOfficialListing, insertRoleItem, marketClient } from './discord-client.ts';
import { insertResoldListing } from './fixtures.ts';

const ROLE_ID = '930000000000000002';
/** The REST calls one job attempt makes when Discord keeps failing: the first and the client's own retries. */
const ATTEMPT_CALLS = DefaultRestOptions.retries + 1;
let rig: InteractionServer;
const { actor, send, fund, buy, order } = marketClient(() => rig, 700000000000000000n);

/** Who holds ROLE_ID in the fake guild: a PUT the fake applied adds the member, a DELETE removes them. */
const members = new Set<string>();
type Reply = { status: number; body?: unknown };
/** How the fake answers a member's `n`th role PUT: 'apply' adds the role and answers 204. */
const putHooks = new Map<string, (n: number) => Promise<Reply | 'apply'>>();
const roleCalls = (method: string, who: Actor) =>
  rig.discord.callsTo(method, new RegExp(`/guilds/${TEST_GUILD_ID}/members/${who.id}/roles/${ROLE_ID}$`));
const FAILED: Reply = { status: 500, body: { code: 0, message: '500: Internal Server Error' } };

let seller: Actor;
let listingId: string;

beforeAll(async () => {
  rig = await startInteractionServer({ env: { RATE_LIMIT_ACTIONS: '10000', GUILD_ID: TEST_GUILD_ID } });
  const counts = new Map<string, number>();
  rig.discord.route('PUT', '/guilds/:guild/members/:user/roles/:role', async ({ params }) => {
    const user = params.user!;
    const n = (counts.get(user) ?? 0) + 1;
    counts.set(user, n);
    const answer = (await putHooks.get(user)?.(n)) ?? 'apply';
    if (answer !== 'apply') return answer;
    members.add(user);
    return { status: 204 };
  });
  rig.discord.route('DELETE', '/guilds/:guild/members/:user/roles/:role', ({ params }) => {
    members.delete(params.user!);
    return { status: 204 };
  });
  const itemId = await insertRoleItem(rig, ROLE_ID);
  // The server shop sells the role; a Discord Administrator (an owner) acts as its seller.
  seller = actor({ admin: true });
  await fund(seller, 0);
  listingId = await insertOfficialListing(rig, itemId, 'VIP', 100, 10);
});

afterAll(async () => {
  await rig?.stop();
});

/** The role is gone, and Discord's last word on it was a removal after every grant. */
const roleTakenBack = (who: Actor) =>
  until('the role taken back', () => {
    const calls = rig.discord.calls;
    const last = (method: string) => calls.lastIndexOf(roleCalls(method, who).at(-1)!);
    return !members.has(who.id) && roleCalls('DELETE', who).length > 0 && last('DELETE') > last('PUT');
  });

const click = (customId: string, who: Actor) => send(buttonClick(customId, who), 4);
/** The order id `buy` returns, for a hook that may run before `buy` has returned. */
const placed = (orderId: () => string) => until('the order id', () => orderId() || undefined);

describe('granting a bought discord_role', () => {
  it('an order its seller marked delivered before the grant succeeded still gets the role, once', async () => {
    const buyer = actor();
    await fund(buyer, 1000);
    let orderId = '';
    putHooks.set(buyer.id, async (n) => {
      if (n === 1) {
        const delivered = await click(`market:order:deliver:${await placed(() => orderId)}`, seller);
        expect(delivered.content).toMatch(/Marked as delivered/);
      }
      return n <= ATTEMPT_CALLS ? FAILED : 'apply';
    });
    ({ orderId } = await buy(buyer, listingId));
    await until('the role', () => members.has(buyer.id));
    expect(roleCalls('PUT', buyer).filter((c) => c.status === 204)).toHaveLength(1);
    expect(await order(orderId)).toMatchObject({ state: 'delivered' });
  });

  it('a grant Discord applied but whose answer was lost, then refunded before the retry: the role is taken back', async () => {
    const buyer = actor();
    await fund(buyer, 1000);
    let orderId = '';
    putHooks.set(buyer.id, async (n) => {
      if (n === 1) {
        const cancelled = await click(`market:order:bcancel:${await placed(() => orderId)}`, buyer);
        expect(cancelled.content).toMatch(/coins are back/);
      }
      members.add(buyer.id);
      return FAILED;
    });
    ({ orderId } = await buy(buyer, listingId));
    await roleTakenBack(buyer);
    expect(await order(orderId)).toMatchObject({ state: 'refunded', refund_reason: 'buyer_cancelled' });
  });

  it('refunded while the grant was in flight, after the refund had already removed the role: taken back again', async () => {
    const buyer = actor();
    await fund(buyer, 1000);
    let orderId = '';
    putHooks.set(buyer.id, async (n) => {
      if (n === 1) await click(`market:order:deliver:${await placed(() => orderId)}`, seller);
      if (n <= ATTEMPT_CALLS) return FAILED;
      // The retry's grant is on its way: the seller cancels, and the refund's own removal runs first.
      expect((await click(`market:order:scancel:${orderId}`, seller)).content).toMatch(/coins back/);
      await until('the refund removing the role', () => roleCalls('DELETE', buyer)[0]);
      return 'apply';
    });
    ({ orderId } = await buy(buyer, listingId));
    await until('the late grant', () => roleCalls('PUT', buyer).find((c) => c.status === 204));
    await roleTakenBack(buyer);
    expect(await order(orderId)).toMatchObject({ state: 'refunded', refund_reason: 'seller_cancelled' });
  });
});

describe('a role on a player listing (written before the database refused them)', () => {
  it('is never granted: the grant job refuses the order and refunds the buyer', async () => {
    const itemId = await insertRoleItem(rig, '930000000000000003', 'Moderator badge');
    const reseller = actor();
    const resellerId = await fund(reseller, 0);
    // The database refuses such a listing now (below), so the old one is written with its trigger off.
    await expect(
      rig.db.db
        .insertInto('listings')
        .values({
          seller_id: resellerId,
          catalog_item_id: itemId,
          title: 'VIP',
          unit_price: 50,
          quantity_total: 5,
          quantity_left: 5,
        })
        .execute(),
    ).rejects.toMatchObject({ code: '23514', constraint: 'listings_restricted_item' });
    const legacy = await insertResoldListing(rig.db.db, resellerId, itemId, 50, 5);
    const buyer = actor();
    const buyerId = await fund(buyer, 500);
    const { orderId } = await buy(buyer, legacy);
    await until('the refusal', async () => (await order(orderId)).state === 'refunded');
    expect(await order(orderId)).toMatchObject({ refund_reason: 'restricted_item', role_granted_at: null });
    expect(await balanceOf(rig.db.db, buyerId)).toBe(500);
    expect(await balanceOf(rig.db.db, resellerId)).toBe(0);
    expect(rig.discord.callsTo('PUT', new RegExp(`/members/${buyer.id}/roles/`))).toEqual([]);
    expect(rig.discord.callsTo('DELETE', new RegExp(`/members/${buyer.id}/roles/`))).toEqual([]);
  });
});

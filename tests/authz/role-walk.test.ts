import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adjustBalance,
  changeRoleMap,
  freezeUser,
  noteTransfer,
  refundTransfer,
  unfreezeUser,
} from '../../economy/admin.ts';
import { Ledger } from '../../economy/ledger.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import { createCatalogItem, setCatalogItemActive, updateCatalogItem } from '../../economy/market/catalog.ts';
import {
  cancelListing,
  createListing,
  grantGuardOverride,
  pauseListing,
  removeListing,
  resumeListing,
  updateListing,
} from '../../economy/market/listings.ts';
import { Market } from '../../economy/market/market.ts';
import type { Listing, Order } from '../../economy/market/types.ts';
import { can, GRANTEES, systemActor, type Action, type Actor, type Grantee } from '../../economy/rbac.ts';
import { createTestDatabase, fundedUsers, type TestDatabase } from '../helpers/db.ts';
import { clock, insertResoldListing, settings } from '../market/fixtures.ts';

/**
 * Every state-changing economy function, called as each of the six grantees (owner, admin, moderator, viewer,
 * a plain player, the system): allowed exactly when PERMISSIONS says so, and a refusal is a 403 that writes
 * nothing. Each call gets fresh targets, so an allowed call succeeds for the right reason.
 */
let t: TestDatabase;
let ledger: Ledger;
let market: Market;
const time = clock();
const users = {} as Record<Exclude<Grantee, 'system'>, string>;
/** Players the walked actors act on: never the actors themselves. */
let others: string[];
let n = 0;
const deps = () => ({ db: t.db, now: time.now });

const actorOf = (grantee: Grantee): Actor =>
  grantee === 'system'
    ? systemActor(`walk-${++n}`)
    : {
        kind: 'member',
        userId: users[grantee],
        role: grantee === 'player' ? null : grantee,
        source: 'panel',
        requestId: `walk-${++n}`,
      };

const other = (i: number) => others[i % others.length]!;

async function payment(): Promise<string> {
  const r = await ledger.transfer({
    key: `walk-pay-${++n}`,
    debit: other(n),
    credit: other(n + 1),
    amount: 5,
    reason: 'pay',
  });
  return r.transferId;
}

const staffListing = (title: string): Promise<Listing> =>
  createListing(t.db, settings, actorOf('owner'), { official: true, title, unitPrice: 10, quantity: 5 });

const playerListing = (seller: string, title: string): Promise<Listing> =>
  createListing(
    t.db,
    { ...settings, maxActiveListings: 1000 },
    { kind: 'member', userId: seller, role: null, source: 'panel', requestId: `seed-${++n}` },
    { title, unitPrice: 10, quantity: 5 },
  );

/** An order of one unit from a player's listing: `buyer` buys from `seller`. */
async function orderBetween(buyer: string, seller: string): Promise<Order> {
  const listing = await playerListing(seller, `Walk ${++n}`);
  const { order } = await market.buy(
    { kind: 'member', userId: buyer, role: null, source: 'panel', requestId: `seed-${++n}` },
    { key: `walk-buy-${++n}`, listingId: listing.id, quantity: 1, expectedUnitPrice: 10 },
  );
  return order;
}

/**
 * An order of a role bought from a player's listing, as listings made before the database refused them left
 * behind: the listing is written with its trigger off.
 */
async function resoldRoleOrder(buyer: string, seller: string): Promise<Order> {
  const item = await createCatalogItem(t.db, actorOf('owner'), {
    name: `Role ${++n}`,
    kind: 'discord_role',
    roleId: String(730_000_000_000_000_000n + BigInt(n)),
    basePrice: 10,
  });
  const listing = await insertResoldListing(t.db, seller, item.id, 10, 1);
  const { order } = await market.buy(
    { kind: 'member', userId: buyer, role: null, source: 'panel', requestId: `seed-${++n}` },
    { key: `walk-buy-${++n}`, listingId: listing, quantity: 1, expectedUnitPrice: 10 },
  );
  return order;
}

const auditCount = async () =>
  Number(
    (
      await t.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

interface Walk {
  name: string;
  /** Whether `grantee` may call it, from PERMISSIONS. */
  allowed: (g: Grantee) => boolean;
  /** Prepares fresh targets and returns the call. */
  call: (actor: Actor, g: Grantee) => Promise<() => Promise<unknown>>;
}

const by = (action: Action) => (g: Grantee) => can(g, action);
/** A member acting as the buyer or seller of their own order or listing: `market.trade`; the system has none. */
const asParty = by('market.trade');
/** The party a grantee acts as; the system, which is nobody's buyer, acts on a stranger's order. */
const self = (g: Grantee) => (g === 'system' ? other(0) : users[g]);

const WALKS: Walk[] = [
  {
    name: 'adjustBalance',
    allowed: by('balance.adjust'),
    call: async (actor) => () =>
      adjustBalance(deps(), actor, { userId: other(1), amount: 7, reason: 'walk', key: `adj-${++n}` }),
  },
  {
    name: 'freezeUser',
    allowed: by('user.freeze'),
    call: async (actor) => {
      const [target] = await fundedUsers(t.db, 1, 0, 800_000_000_000_000_000n + BigInt(++n));
      return () => freezeUser(deps(), actor, { userId: target!, reason: 'walk' });
    },
  },
  {
    name: 'unfreezeUser',
    allowed: by('user.freeze'),
    call: async (actor) => {
      const [target] = await fundedUsers(t.db, 1, 0, 810_000_000_000_000_000n + BigInt(++n));
      await t.db.updateTable('users').set({ frozen: true }).where('id', '=', target!).execute();
      return () => unfreezeUser(deps(), actor, { userId: target! });
    },
  },
  {
    name: 'refundTransfer',
    allowed: by('tx.refund'),
    call: async (actor) => {
      const id = await payment();
      return () => refundTransfer(deps(), actor, { transferId: id, reason: 'walk' });
    },
  },
  {
    name: 'noteTransfer',
    allowed: by('tx.note'),
    call: async (actor) => {
      const id = await payment();
      return () => noteTransfer(deps(), actor, { transferId: id, note: 'walk' });
    },
  },
  {
    name: 'changeRoleMap',
    allowed: by('roles.change'),
    call: async (actor) => () =>
      changeRoleMap(deps(), actor, {
        guildId: '900000000000000001',
        role: 'viewer',
        discordRoleId: String(700_000_000_000_000_000n + BigInt(++n)),
      }),
  },
  {
    name: 'createCatalogItem',
    allowed: by('market.manage'),
    call: async (actor) => () =>
      createCatalogItem(t.db, actor, { name: `Item ${++n}`, kind: 'other', basePrice: 10 }),
  },
  {
    name: 'updateCatalogItem',
    allowed: by('market.manage'),
    call: async (actor) => {
      const item = await createCatalogItem(t.db, actorOf('owner'), {
        name: `Old ${++n}`,
        kind: 'other',
        basePrice: 10,
      });
      return () =>
        updateCatalogItem(t.db, actor, item.id, { name: `New ${++n}`, kind: 'other', basePrice: 11 });
    },
  },
  {
    name: 'setCatalogItemActive',
    allowed: by('market.manage'),
    call: async (actor) => {
      const item = await createCatalogItem(t.db, actorOf('owner'), {
        name: `Retire ${++n}`,
        kind: 'other',
        basePrice: 10,
      });
      return () => setCatalogItemActive(t.db, actor, item.id, false);
    },
  },
  {
    name: 'createListing (official)',
    allowed: by('market.manage'),
    call: async (actor) => () =>
      createListing(t.db, settings, actor, {
        official: true,
        title: `Official ${++n}`,
        unitPrice: 5,
        quantity: 1,
      }),
  },
  {
    name: 'createListing (as oneself)',
    allowed: asParty,
    call: async (actor) => () =>
      createListing(t.db, { ...settings, maxActiveListings: 1000 }, actor, {
        title: `Mine ${++n}`,
        unitPrice: 5,
        quantity: 1,
      }),
  },
  {
    name: "updateListing (another player's)",
    allowed: by('market.manage'),
    call: async (actor) => {
      const listing = await playerListing(other(2), `Theirs ${++n}`);
      return () => updateListing(t.db, settings, actor, listing.id, { unitPrice: 12 });
    },
  },
  {
    name: 'updateListing (own)',
    allowed: asParty,
    call: async (actor, g) => {
      const listing = await playerListing(self(g), `Own ${++n}`);
      return () => updateListing(t.db, settings, actor, listing.id, { unitPrice: 12 });
    },
  },
  {
    name: 'pauseListing (official)',
    allowed: by('market.manage'),
    call: async (actor) => {
      const listing = await staffListing(`Pause ${++n}`);
      return () => pauseListing(t.db, actor, listing.id);
    },
  },
  {
    name: 'resumeListing (official)',
    allowed: by('market.manage'),
    call: async (actor) => {
      const listing = await staffListing(`Resume ${++n}`);
      await pauseListing(t.db, actorOf('owner'), listing.id);
      return () => resumeListing(t.db, actor, listing.id);
    },
  },
  {
    name: 'cancelListing (own)',
    allowed: asParty,
    call: async (actor, g) => {
      const listing = await playerListing(self(g), `End ${++n}`);
      return () => cancelListing(t.db, actor, listing.id);
    },
  },
  {
    name: 'removeListing',
    allowed: by('order.cancel'),
    call: async (actor) => {
      const listing = await playerListing(other(3), `Remove ${++n}`);
      return () => removeListing(t.db, actor, listing.id, 'walk test');
    },
  },
  {
    name: 'grantGuardOverride',
    allowed: by('market.manage'),
    call: async (actor) => {
      const listing = await playerListing(other(4), `Override ${++n}`);
      return () => grantGuardOverride(t.db, actor, listing.id, 'walk test');
    },
  },
  {
    name: 'Market.buy',
    allowed: asParty,
    call: async (actor) => {
      const listing = await playerListing(other(5), `Buy ${++n}`);
      return () =>
        market.buy(actor, { key: `walk-${++n}`, listingId: listing.id, quantity: 1, expectedUnitPrice: 10 });
    },
  },
  {
    // The system delivers too (a bought role, once granted).
    name: 'Market.markDelivered (as seller)',
    allowed: (g) => asParty(g) || can(g, 'order.timers'),
    call: async (actor, g) => {
      const order = await orderBetween(other(6), self(g));
      return () => market.markDelivered(order.id, actor);
    },
  },
  {
    name: 'Market.confirmReceived (as buyer)',
    allowed: asParty,
    call: async (actor, g) => {
      const order = await orderBetween(self(g), other(7));
      return () => market.confirmReceived(order.id, actor);
    },
  },
  {
    name: 'Market.cancelBySeller (as seller)',
    allowed: asParty,
    call: async (actor, g) => {
      const order = await orderBetween(other(8), self(g));
      return () => market.cancelBySeller(order.id, actor);
    },
  },
  {
    name: 'Market.cancelByBuyer (as buyer)',
    allowed: asParty,
    call: async (actor, g) => {
      const order = await orderBetween(self(g), other(9));
      return () => market.cancelByBuyer(order.id, actor);
    },
  },
  {
    name: 'Market.dispute (as buyer)',
    allowed: asParty,
    call: async (actor, g) => {
      const order = await orderBetween(self(g), other(10));
      await market.markDelivered(order.id, actorOf('system'));
      return () => market.dispute(order.id, actor, 'it never came');
    },
  },
  {
    name: 'Market.adminRefund',
    allowed: by('tx.refund'),
    call: async (actor) => {
      const order = await orderBetween(other(11), other(12));
      return () => market.adminRefund(order.id, actor, 'walk test');
    },
  },
  {
    name: 'Market.adminFulfil',
    allowed: by('order.fulfil'),
    call: async (actor) => {
      const order = await orderBetween(other(13), other(14));
      return () => market.adminFulfil(order.id, actor, 'walk test');
    },
  },
  {
    name: 'Market.expireEscrow',
    allowed: by('order.timers'),
    call: async (actor) => {
      const order = await orderBetween(other(15), other(16));
      return () => market.expireEscrow(order.id, actor);
    },
  },
  {
    name: 'Market.completeAfterConfirmWindow',
    allowed: by('order.timers'),
    call: async (actor) => {
      const order = await orderBetween(other(17), other(18));
      await market.markDelivered(order.id, actorOf('system'));
      return () => market.completeAfterConfirmWindow(order.id, actor);
    },
  },
  {
    name: 'Market.refuseRestricted',
    allowed: by('order.timers'),
    call: async (actor) => {
      const order = await resoldRoleOrder(other(19), other(20));
      return () => market.refuseRestricted(order.id, actor);
    },
  },
];

beforeAll(async () => {
  t = await createTestDatabase(10);
  ledger = new Ledger(t.db);
  market = new Market(t.db, settings, { now: time.now });
  const ids = await fundedUsers(t.db, 5 + 21, 1_000_000);
  (['owner', 'admin', 'moderator', 'viewer', 'player'] as const).forEach((g, i) => (users[g] = ids[i]!));
  others = ids.slice(5);
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await t.drop();
});

describe('every state-changing economy function checks its actor against PERMISSIONS', () => {
  const cases = WALKS.flatMap((walk) =>
    GRANTEES.map((grantee) => ({ name: walk.name, grantee, walk, allowed: walk.allowed(grantee) })),
  );
  it.each(cases)('$name as $grantee → allowed=$allowed', async ({ walk, grantee, allowed }) => {
    const actor = actorOf(grantee);
    const run = await walk.call(actor, grantee);
    const audits = await auditCount();
    if (allowed) {
      await expect(run()).resolves.toBeDefined();
    } else {
      await expect(run()).rejects.toMatchObject({ status: 403 });
      expect(await auditCount()).toBe(audits);
    }
  });
});

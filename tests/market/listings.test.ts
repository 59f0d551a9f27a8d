import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../economy/errors.ts';
import {
  createCatalogItem,
  listCatalog,
  searchCatalog,
  setCatalogItemActive,
  updateCatalogItem,
} from '../../economy/market/catalog.ts';
import {
  browseListings,
  cancelListing,
  createListing,
  grantGuardOverride,
  pauseListing,
  removeListing,
  resumeListing,
  searchListings,
  sellerListings,
  updateListing,
} from '../../economy/market/listings.ts';
import { Market } from '../../economy/market/market.ts';
import { createTestDatabase, fundedUsers, type TestDatabase } from '../helpers/db.ts';
import { admin, clock, freeze, player, settings } from './fixtures.ts';

let t: TestDatabase;
let a: string;
let b: string;
let boss: string;
let frozen: string;
const me = (userId: string) => player(userId);

beforeAll(async () => {
  t = await createTestDatabase(10);
  [a, b, boss, frozen] = (await fundedUsers(t.db, 4, 100_000)) as [string, string, string, string];
  await freeze(t.db, frozen);
});

afterAll(async () => {
  await t.drop();
});

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('catalog', () => {
  it('validates items by kind and refuses duplicate names, audited', async () => {
    const role = await createCatalogItem(t.db, admin(boss), {
      name: 'VIP role',
      kind: 'discord_role',
      roleId: '123456789012345678',
      basePrice: 5000,
    });
    expect(role).toMatchObject({ kind: 'discord_role', roleId: '123456789012345678', active: true });
    expect(
      (await refusal(createCatalogItem(t.db, admin(boss), { name: 'vip ROLE', kind: 'other', basePrice: 1 })))
        .code,
    ).toBe('catalog_name_taken');
    const bad = await refusal(
      createCatalogItem(t.db, admin(boss), {
        name: 'Diamond',
        kind: 'minecraft_item',
        minecraftItem: 'minecraft:diamond',
        minecraftCommand: 'give {player} diamond {amount}',
        basePrice: 100,
      }),
    );
    expect(bad.message).toContain('{player} {uuid} {qty}');
    const diamond = await createCatalogItem(t.db, admin(boss), {
      name: 'Diamond',
      kind: 'minecraft_item',
      minecraftItem: 'minecraft:diamond',
      minecraftCommand: 'give {player} minecraft:diamond {qty}',
      basePrice: 100,
    });
    // Only the server shop sells Minecraft items and roles, so /sell's autocomplete offers neither.
    expect((await searchCatalog(t.db, 'dia')).map((i) => i.id)).toEqual([]);
    expect(diamond.kind).toBe('minecraft_item');
    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_type', '=', 'catalog_item')
      .execute();
    expect(audit.map((r) => r.action)).toEqual(['market.catalog.create', 'market.catalog.create']);
  });

  it('updates an item (audited with before and after) and lists the catalog by name', async () => {
    const item = await createCatalogItem(t.db, admin(boss), { name: 'Torch', kind: 'other', basePrice: 2 });
    const updated = await updateCatalogItem(t.db, admin(boss), item.id, {
      name: 'Soul torch',
      kind: 'other',
      basePrice: 3,
      description: 'Blue flame',
    });
    expect(updated).toMatchObject({ name: 'Soul torch', basePrice: 3, description: 'Blue flame' });
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['before', 'after'])
      .where('action', '=', 'market.catalog.update')
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ before: { name: 'Torch' }, after: { name: 'Soul torch' } });
    expect(
      (
        await refusal(
          updateCatalogItem(t.db, admin(boss), '999999', { name: 'x', kind: 'other', basePrice: 1 }),
        )
      ).code,
    ).toBe('catalog_item_not_found');
    const names = (await listCatalog(t.db)).map((i) => i.name);
    expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    expect(names).toContain('Soul torch');
  });

  it('a retired item cannot be listed', async () => {
    const item = await createCatalogItem(t.db, admin(boss), {
      name: 'Old hat',
      kind: 'other',
      basePrice: 10,
    });
    await setCatalogItemActive(t.db, admin(boss), item.id, false);
    const err = await refusal(
      createListing(t.db, settings, me(a), { catalogItemId: item.id, unitPrice: 10, quantity: 1 }),
    );
    expect(err.code).toBe('catalog_item_inactive');
    expect(await searchCatalog(t.db, 'old')).toEqual([]);
  });
});

describe('what players may list and write', () => {
  it('only official listings sell Discord roles and Minecraft items, in the economy and in the database', async () => {
    const role = await createCatalogItem(t.db, admin(boss), {
      name: 'Resellable role?',
      kind: 'discord_role',
      roleId: '223456789012345678',
      basePrice: 100,
    });
    const item = await createCatalogItem(t.db, admin(boss), {
      name: 'Resellable sword?',
      kind: 'minecraft_item',
      minecraftItem: 'diamond_sword',
      minecraftCommand: 'give {player} diamond_sword {qty}',
      basePrice: 100,
    });
    for (const id of [role.id, item.id]) {
      const mine = await refusal(
        createListing(t.db, settings, me(a), { catalogItemId: id, unitPrice: 100, quantity: 1 }),
      );
      expect(mine).toMatchObject({ code: 'official_only', status: 403 });
      const forPlayer = await refusal(
        createListing(t.db, settings, admin(boss), {
          catalogItemId: id,
          unitPrice: 100,
          quantity: 1,
          sellerId: a,
        }),
      );
      expect(forPlayer.code).toBe('official_only');
    }
    expect(await sellerListings(t.db, a)).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ catalogItemId: role.id })]),
    );
    const official = await createListing(t.db, settings, admin(boss), {
      official: true,
      catalogItemId: role.id,
      unitPrice: 100,
      quantity: 1,
    });
    expect(official).toMatchObject({ official: true, sellerId: null });
    await expect(
      t.db
        .insertInto('listings')
        .values({
          seller_id: a,
          catalog_item_id: role.id,
          title: 'x',
          unit_price: 1,
          quantity_total: 1,
          quantity_left: 1,
        })
        .execute(),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      t.db
        .updateTable('listings')
        .set({ official: false, seller_id: a })
        .where('id', '=', official.id)
        .execute(),
    ).rejects.toMatchObject({ code: '23514' });

    const plain = await createCatalogItem(t.db, admin(boss), {
      name: 'Plain thing',
      kind: 'other',
      basePrice: 10,
    });
    await createListing(t.db, settings, me(a), { catalogItemId: plain.id, unitPrice: 10, quantity: 1 });
    const turned = await refusal(
      updateCatalogItem(t.db, admin(boss), plain.id, {
        name: 'Plain thing',
        kind: 'discord_role',
        roleId: '323456789012345678',
        basePrice: 10,
      }),
    );
    expect(turned.code).toBe('catalog_kind_in_use');
  });

  it("players' titles and descriptions may not carry links; official listings may", async () => {
    const linked = [
      { title: 'Free coins', description: '[Claim reward](https://evil.example/claim)' },
      { title: 'Visit https://evil.example', description: null },
      { title: 'Invite', description: 'join discord.gg/abcdef' },
      { title: 'Hidden', description: '[x] (hxxp) [Claim]( https://evil.example )' },
      { title: '[Claim](<https://evil.example>)', description: null },
    ];
    for (const text of linked) {
      const err = await refusal(createListing(t.db, settings, me(a), { ...text, unitPrice: 5, quantity: 1 }));
      expect(err).toMatchObject({ code: 'links_not_allowed', status: 400 });
    }
    const ok = await createListing(t.db, settings, me(a), {
      title: 'Plain *bold* sword',
      description: 'Sharp, 10/10.',
      unitPrice: 5,
      quantity: 1,
    });
    expect(
      (await refusal(updateListing(t.db, settings, me(a), ok.id, { description: 'see www.evil.example' })))
        .code,
    ).toBe('links_not_allowed');
    const official = await createListing(t.db, settings, admin(boss), {
      official: true,
      title: 'Server rules',
      description: '[Read them](https://example.com/rules)',
      unitPrice: 5,
      quantity: 1,
    });
    expect(official.description).toBe('[Read them](https://example.com/rules)');
  });
});

describe('listings', () => {
  it('caps open listings per player; ending one frees a slot', async () => {
    const made = [];
    for (let i = 0; i < settings.maxActiveListings; i++) {
      made.push(
        await createListing(t.db, settings, me(b), { title: `Service ${i}`, unitPrice: 10, quantity: 1 }),
      );
    }
    const err = await refusal(
      createListing(t.db, settings, me(b), { title: 'One more', unitPrice: 10, quantity: 1 }),
    );
    expect(err.code).toBe('listing_cap');
    await cancelListing(t.db, me(b), made[0]!.id);
    await createListing(t.db, settings, me(b), { title: 'One more', unitPrice: 10, quantity: 1 });
    const open = await sellerListings(t.db, b, { pageSize: 25 });
    expect(open.listings).toHaveLength(settings.maxActiveListings);
    expect(open.listings.map((l) => l.id)).not.toContain(made[0]!.id);
  });

  it('the cap holds under concurrent creation', async () => {
    const [c] = await fundedUsers(t.db, 1, 0, 400_000_000_000_000_000n);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        createListing(t.db, settings, me(c!), { title: `Rush ${i}`, unitPrice: 5, quantity: 1 }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(settings.maxActiveListings);
  });

  it('refuses a frozen seller, bad input and players pretending to be admins', async () => {
    expect(
      (await refusal(createListing(t.db, settings, me(frozen), { title: 'x', unitPrice: 1, quantity: 1 })))
        .code,
    ).toBe('seller_frozen');
    expect(
      (await refusal(createListing(t.db, settings, me(a), { title: '', unitPrice: 1, quantity: 1 }))).code,
    ).toBe('invalid_input');
    expect(
      (await refusal(createListing(t.db, settings, me(a), { title: 'x', unitPrice: 1.5, quantity: 1 })))
        .message,
    ).toBe('The price must be a whole number of coins.');
    expect(
      (
        await refusal(
          createListing(t.db, settings, me(a), {
            title: 'x',
            unitPrice: 1,
            quantity: 1,
            guardOverrideReason: 'pls',
          }),
        )
      ).code,
    ).toBe('forbidden');
  });

  it('updates price and stock; the total cannot drop below what is sold, guarded unless overridden', async () => {
    const item = await createCatalogItem(t.db, admin(boss), { name: 'Gold', kind: 'other', basePrice: 100 });
    const listing = await createListing(t.db, settings, me(a), {
      catalogItemId: item.id,
      unitPrice: 100,
      quantity: 3,
    });
    expect(listing.title).toBe('Gold');
    const market = new Market(t.db, settings, { now: clock().now });
    await market.buy(player(b), { key: 'g1', listingId: listing.id, quantity: 2, expectedUnitPrice: 100 });
    expect((await refusal(updateListing(t.db, settings, me(a), listing.id, { quantityTotal: 1 }))).code).toBe(
      'quantity_below_sold',
    );
    const sold = await updateListing(t.db, settings, me(a), listing.id, { quantityTotal: 2 });
    expect(sold).toMatchObject({ quantityLeft: 0, state: 'sold_out' });
    const back = await updateListing(t.db, settings, me(a), listing.id, { quantityTotal: 10 });
    expect(back).toMatchObject({ quantityLeft: 8, state: 'active' });
    const low = await refusal(updateListing(t.db, settings, me(a), listing.id, { unitPrice: 49 }));
    expect(low.message).toBe(
      'Gold cannot be listed below 50 coins each (50% of its base price of 100 coins).',
    );
    expect((await refusal(updateListing(t.db, settings, me(b), listing.id, { unitPrice: 60 }))).code).toBe(
      'not_your_listing',
    );
    await grantGuardOverride(t.db, admin(boss), listing.id, 'clearance sale');
    expect((await updateListing(t.db, settings, me(a), listing.id, { unitPrice: 1 })).unitPrice).toBe(1);
  });

  it('pause, resume, cancel and an audited admin removal', async () => {
    const listing = await createListing(t.db, settings, admin(boss), {
      official: true,
      title: 'Official cape',
      unitPrice: 700,
      quantity: 2,
    });
    expect((await pauseListing(t.db, admin(boss), listing.id)).state).toBe('paused');
    expect((await resumeListing(t.db, admin(boss), listing.id)).state).toBe('active');
    expect((await refusal(removeListing(t.db, admin(boss), listing.id, ''))).code).toBe('reason_required');
    expect((await removeListing(t.db, admin(boss), listing.id, 'typo in the title')).state).toBe('removed');
    expect((await refusal(resumeListing(t.db, admin(boss), listing.id))).code).toBe('listing_state');
    const actions = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_type', '=', 'listing')
      .where('target_id', '=', listing.id)
      .orderBy('id')
      .execute();
    expect(actions.map((r) => r.action)).toEqual([
      'market.listing.create',
      'market.listing.pause',
      'market.listing.resume',
      'market.listing.remove',
    ]);
  });

  it('browses active listings by page and sort, and searches by title', async () => {
    const page = await browseListings(t.db, { sort: 'price_asc', page: 1, pageSize: 2 });
    expect(page.listings).toHaveLength(2);
    expect(page.listings[0]!.unitPrice).toBeLessThanOrEqual(page.listings[1]!.unitPrice);
    expect(page.pages).toBe(Math.ceil(page.total / 2));
    const last = await browseListings(t.db, { sort: 'newest', page: 999, pageSize: 2 });
    expect(last.page).toBe(last.pages);
    const found = await searchListings(t.db, 'rush');
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((l) => l.title.startsWith('Rush'))).toBe(true);
    expect(await searchListings(t.db, '%')).toEqual([]);
  });
  it("pages a seller's open listings in SQL; sold-out and ended ones are not open", async () => {
    const [seller] = await fundedUsers(t.db, 1, 0, 500_000_000_000_000_000n);
    const made = [];
    for (let i = 0; i < 3; i++)
      made.push(
        await createListing(t.db, settings, me(seller!), { title: `Page ${i}`, unitPrice: 7, quantity: 1 }),
      );
    await pauseListing(t.db, me(seller!), made[1]!.id);
    await t.db
      .updateTable('listings')
      .set({ state: 'sold_out', quantity_left: 0 })
      .where('id', '=', made[2]!.id)
      .execute();

    const first = await sellerListings(t.db, seller!, { page: 1, pageSize: 1 });
    expect(first).toMatchObject({ page: 1, pages: 2, total: 2 });
    expect(first.listings.map((l) => l.id)).toEqual([made[1]!.id]);
    const past = await sellerListings(t.db, seller!, { page: 99, pageSize: 1 });
    expect(past).toMatchObject({ page: 2, pages: 2, total: 2 });
    expect(past.listings.map((l) => l.id)).toEqual([made[0]!.id]);
    const everything = await sellerListings(t.db, seller!, { pageSize: 25 });
    expect(everything.listings.map((l) => l.id)).not.toContain(made[2]!.id);

    // A sold-out listing no longer takes one of the seller's slots either.
    await createListing(t.db, settings, me(seller!), { title: 'Page 3', unitPrice: 7, quantity: 1 });
  });
});

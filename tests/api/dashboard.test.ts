import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordRest } from '../../discord/rest.ts';
import { SYSTEM_ACCOUNTS } from '../../economy/ledger.ts';
import { createCatalogItem } from '../../economy/market/catalog.ts';
import { createListing } from '../../economy/market/listings.ts';
import { Market } from '../../economy/market/market.ts';
import { handleFeedRelay } from '../../jobs/handlers/feed-relay.ts';
import { handleStatsRollup } from '../../jobs/handlers/stats-rollup.ts';
import { DASHBOARD_CACHE_MS } from '../../economy/stats.ts';
import { sleep } from '../helpers/wait.ts';
import { fundWallets, insertUsers } from '../helpers/db.ts';
import { startApiRig, type ApiRig, type As } from '../helpers/api.ts';
import { admin as marketAdmin, player, settings, systemBalance } from '../market/fixtures.ts';

let api: ApiRig;
let viewer: As;
let users: string[];

async function publishAndRollUp() {
  const deps = {
    cfg: api.deps.cfg,
    db: api.t.db,
    redis: api.deps.redis,
    rest: createDiscordRest(api.deps.cfg),
    log: api.deps.log,
  };
  for (;;) {
    await handleFeedRelay(deps, 50);
    const { max } = await api.t.db
      .selectFrom('transfers')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirstOrThrow();
    const cursor = await api.t.db
      .selectFrom('feed_cursors')
      .select('last_id')
      .where('consumer', '=', 'redis')
      .executeTakeFirst();
    if (max === null || (cursor && BigInt(cursor.last_id) >= BigInt(max))) break;
  }
  await handleStatsRollup({ db: api.t.db, log: api.deps.log });
}

beforeAll(async () => {
  api = await startApiRig();
  // The relay's cursor starts at the newest transfer when first created: create it before any activity.
  await publishAndRollUp();
  users = (await insertUsers(api.t.db, 4, 660_000_000_000_000_000n)).map((u) => u.id);
  viewer = { userId: users[0]!, role: 'viewer' };
  await fundWallets(api.ledger, users, 1000);
  const pay = await api.ledger.transfer({
    key: 'dash-pay',
    debit: users[1]!,
    credit: users[2]!,
    amount: 100,
    reason: 'pay',
    actor: users[1]!,
  });
  expect(pay.ok).toBe(true);
  const burn = await api.call(
    { userId: users[0]!, role: 'admin' },
    'POST',
    `/users/${users[3]}/adjust`,
    { amount: -40, reason: 'cleanup' },
    { 'idempotency-key': 'dash-burn-1' },
  );
  expect(burn.status).toBe(200);

  const item = await createCatalogItem(api.t.db, marketAdmin(users[0]!), {
    name: 'Gem',
    kind: 'other',
    basePrice: 200,
  });
  const listing = await createListing(api.t.db, settings, player(users[2]!), {
    catalogItemId: item.id,
    unitPrice: 200,
    quantity: 5,
  });
  const market = new Market(api.t.db, settings);
  const sold = await market.buy(player(users[1]!), {
    key: 'dash-buy-1',
    listingId: listing.id,
    quantity: 2,
    expectedUnitPrice: 200,
  });
  await market.confirmReceived(sold.order.id, player(users[1]!));
  await market.buy(player(users[3]!), {
    key: 'dash-buy-2',
    listingId: listing.id,
    quantity: 1,
    expectedUnitPrice: 200,
  });
  await publishAndRollUp();
});

afterAll(async () => {
  await api?.close();
});

describe('GET /api/dashboard', () => {
  it('adds up the day from the rollups, matching the ledger', async () => {
    const res = await api.call(viewer, 'GET', '/dashboard?range=7d');
    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(7);
    const today = res.body.days.at(-1);
    expect(today.day).toBe(new Date().toISOString().slice(0, 10));
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from transfers`.execute(api.t.db);
    expect(today).toMatchObject({
      transfers: Number(rows[0]!.n),
      minted: 4000,
      burned: 40,
      fees: 20, // 5% of the 400-coin sale
      marketVolume: 400,
      marketSales: 1,
      activeUsers: 3, // users who acted: the payer (also the first buyer), the second buyer and the admin who burned
    });
    const wallets = await api.t.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.sum<string>('balance').as('s'))
      .where('kind', '=', 'user')
      .executeTakeFirstOrThrow();
    const escrow = await systemBalance(api.t.db, SYSTEM_ACCOUNTS.escrow);
    expect(res.body.escrowHeld).toBe(escrow);
    expect(escrow).toBe(200);
    expect(res.body.circulation).toBe(Number(wallets.s) + escrow);
    expect(res.body.openOrders).toBe(1);
    expect(res.body.topItems).toEqual([
      { itemKey: expect.stringMatching(/^catalog:/), name: 'Gem', units: 2, volume: 400 },
    ]);
  });

  it('counts each transfer once however often the rollup runs', async () => {
    const before = (await api.call(viewer, 'GET', '/dashboard')).body;
    await publishAndRollUp();
    await publishAndRollUp();
    await sleep(DASHBOARD_CACHE_MS + 100); // past the process's reuse window: this answer is computed afresh
    expect((await api.call(viewer, 'GET', '/dashboard')).body).toEqual(before);
  });

  it('refuses an unknown range', async () => {
    expect((await api.call(viewer, 'GET', '/dashboard?range=1y')).status).toBe(400);
  });
});

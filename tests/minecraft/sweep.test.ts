import { REST } from '@discordjs/rest';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/env.ts';
import { createLogger } from '../../config/logger.ts';
import { createRedis } from '../../db/redis.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import { createCatalogItem } from '../../economy/market/catalog.ts';
import { createListing } from '../../economy/market/listings.ts';
import { marketFor } from '../../economy/market/market.ts';
import { getOrder } from '../../economy/market/orders.ts';
import { issueVoucher, refundDelivery } from '../../economy/minecraft/vouchers.ts';
import { handleMinecraftSweep, type MinecraftJobDeps } from '../../jobs/handlers/minecraft.ts';
import { Queues } from '../../jobs/queues.ts';
import type { Actor, Role } from '../../economy/rbac.ts';
import { createTestDatabase, fundedUsers, testRedisPrefix, type TestDatabase } from '../helpers/db.ts';
import { REDIS_URL, databaseUrl } from '../helpers/env.ts';
import { admin, settings } from '../market/fixtures.ts';

let t: TestDatabase;
let deps: MinecraftJobDeps;
let queues: Queues;
let buyer: string;
let boss: string;
let listingId: string;
let n = 0;
const log = createLogger('silent', 'minecraft-sweep-test');
const redis = createRedis(REDIS_URL, 'command', 'minecraft-sweep-test');

beforeAll(async () => {
  t = await createTestDatabase(10);
  const cfg = parseConfig({
    DATABASE_URL: databaseUrl(t.name),
    REDIS_URL,
    DISCORD_PUBLIC_KEY: '0'.repeat(64),
    GUILD_ID: '900000000000000001',
    NODE_ENV: 'test',
    ESCROW_TIMEOUT_MIN: '60',
  });
  queues = new Queues(redis, `${testRedisPrefix()}:bull`, log);
  deps = { cfg, db: t.db, log, queues, rest: new REST(), now: () => new Date() };
  [buyer, boss] = (await fundedUsers(t.db, 2, 10_000)) as [string, string];
  const item = await createCatalogItem(t.db, admin(boss), {
    name: 'Emerald',
    kind: 'minecraft_item',
    minecraftItem: 'minecraft:emerald',
    minecraftCommand: 'give {player} minecraft:emerald {qty}',
    basePrice: 10,
  });
  listingId = (
    await createListing(t.db, settings, admin(boss), {
      catalogItemId: item.id,
      unitPrice: 10,
      quantity: 100,
      official: true,
    })
  ).id;
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await queues.close();
  redis.disconnect();
  await t.drop();
});

/** An order with its voucher, redeemed by the buyer, in `state`, last touched `ago` ms ago. */
async function voucherIn(state: string, ago: number) {
  const { order } = await marketFor(deps).buy(member(buyer, null), {
    key: `sweep-${++n}`,
    listingId,
    quantity: 1,
    expectedUnitPrice: 10,
  });
  const { voucher } = (await issueVoucher(t.db, order, 24, new Date()))!;
  const at = new Date(Date.now() - ago);
  await sql`
    update minecraft_vouchers set state = ${state}, redeemed_at = ${at}, player_uuid = gen_random_uuid(),
      player_name = 'Sweeper', updated_at = ${at}, sending_at = ${at}
    where id = ${voucher.id}`.execute(t.db);
  return { orderId: order.id, voucherId: voucher.id };
}

const member = (userId: string, role: Role | null): Actor => ({
  kind: 'member',
  userId,
  role,
  source: 'discord',
  requestId: `test-${userId}`,
});

const stateOf = async (id: string) =>
  await t.db
    .selectFrom('minecraft_vouchers')
    .select(['state', 'last_error'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

describe('the Minecraft sweeper', () => {
  it('queues lost deliveries again, flags stuck ones, completes delivered ones and forgets old event ids', async () => {
    const lost = await voucherIn('queued', 10 * 60_000);
    const fresh = await voucherIn('queued', 1000);
    const stuck = await voucherIn('sending', 5 * 60_000);
    const sending = await voucherIn('sending', 1000);
    const delivered = await voucherIn('delivered', 1000);
    await sql`
      insert into minecraft_events (webhook_id, type, server, status, answer, received_at) values
        ('old', 'player.join', 's', 200, '{}', now() - interval '2 days'),
        ('recent', 'player.join', 's', 200, '{}', now())`.execute(t.db);

    const result = await handleMinecraftSweep(deps);
    expect(result).toEqual({ requeued: 1, completed: 1, stuck: 1, pruned: 1 });
    const jobs = await queues.get('minecraft').getJobs(['waiting']);
    expect(jobs.map((j) => j.data)).toEqual([{ voucherId: lost.voucherId }]);
    expect(await stateOf(stuck.voucherId)).toEqual({
      state: 'failed',
      last_error: 'no answer from the delivery: check in game, then retry or refund',
    });
    expect((await stateOf(sending.voucherId)).state).toBe('sending');
    expect((await stateOf(fresh.voucherId)).state).toBe('queued');
    expect((await getOrder(t.db, delivered.orderId))!.state).toBe('completed');
    const ids = await t.db.selectFrom('minecraft_events').select('webhook_id').execute();
    expect(ids.map((r) => r.webhook_id)).toEqual(['recent']);

    // A second sweep right after has nothing new to do (the lost one is queued under the same minute's id).
    expect(await handleMinecraftSweep(deps)).toMatchObject({ completed: 0, stuck: 0, pruned: 0 });
  });

  it('an admin refund without a reason changes nothing; with one it refunds once', async () => {
    const v = await voucherIn('failed', 1000);
    const actor = member(boss, 'admin');
    await expect(
      refundDelivery(t.db, marketFor(deps), actor, v.voucherId, ' ', new Date()),
    ).rejects.toMatchObject({
      code: 'reason_required',
    });
    expect((await stateOf(v.voucherId)).state).toBe('failed');
    expect((await getOrder(t.db, v.orderId))!.state).toBe('pending');
    const viewer = member(boss, 'viewer');
    await expect(
      refundDelivery(t.db, marketFor(deps), viewer, v.voucherId, 'never came', new Date()),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const done = await refundDelivery(t.db, marketFor(deps), actor, v.voucherId, 'never came', new Date());
    expect(done.order).toMatchObject({ state: 'refunded', refundReason: 'admin_refund' });
    await expect(
      refundDelivery(t.db, marketFor(deps), actor, v.voucherId, 'never came', new Date()),
    ).rejects.toMatchObject({ code: 'delivery_not_open' });
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../config/env.ts';
import { createLogger } from '../../config/logger.ts';
import { createRedis } from '../../db/redis.ts';
import { createDiscordRest } from '../../discord/rest.ts';
import { loadCursor } from '../../economy/feed.ts';
import { Ledger } from '../../economy/ledger.ts';
import { handleFeedRelay } from '../../jobs/handlers/feed-relay.ts';
import { FakeDiscordApi } from '../../playground/discord/fake-api.ts';
import { createTestDatabase, fundedUsers, testRedisPrefix, type TestDatabase } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { feedIds, maxFeedLagMs, transferIdsIn } from './helpers.ts';

// Discord's real per-channel limit, 5 messages per 5 s, against a sustained 50 transactions/s: the feed must
// coalesce enough to stay within a minute, skipping nothing.
const TOKEN = 'throughput-token';
const GUILD = '960000000000000000';
const CHANNEL = '960000000000000001';
const TOTAL = 1000;
const PER_SECOND = 50;

let t: TestDatabase;
let fake: FakeDiscordApi;
let redis: ReturnType<typeof createRedis>;

beforeAll(async () => {
  t = await createTestDatabase();
  fake = await FakeDiscordApi.start({ token: TOKEN, messageRateLimit: { limit: 5, windowMs: 5000 } });
  fake.addGuild(GUILD, [{ id: CHANNEL, name: 'coin-transactions' }]);
  await t.db.insertInto('guild_settings').values({ guild_id: GUILD, tx_channel_id: CHANNEL }).execute();
  redis = createRedis(REDIS_URL, 'command', 'throughput-test');
});

afterAll(async () => {
  await redis?.quit();
  await fake?.close();
  await t?.drop();
});

it('keeps a 50 tx/s burst within a minute under 5 messages per 5 s, exactly once and in order', async () => {
  const cfg = parseConfig({
    DATABASE_URL: t.url,
    REDIS_URL,
    REDIS_PREFIX: testRedisPrefix(),
    DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
    DISCORD_TOKEN: TOKEN,
    DISCORD_API_BASE: fake.url,
    GUILD_ID: GUILD,
  });
  const deps = { cfg, db: t.db, redis, rest: createDiscordRest(cfg), log: createLogger('silent') };
  const ledger = new Ledger(t.db);
  // Discord usernames run up to 32 characters; long ones make the compact lines longest.
  const users = await fundedUsers(t.db, 10, 1_000_000);
  await t.db
    .updateTable('users')
    .set((eb) => ({ username: eb.fn('rpad', [eb.ref('username'), eb.val(32), eb.val('_long_name')]) }))
    .execute();
  const start = (await loadCursor(t.db, 'discord')).lastId;
  await loadCursor(t.db, 'redis');

  let stop = false;
  const relay = (async () => {
    while (!stop) await handleFeedRelay(deps, 1000);
  })();
  const began = Date.now();
  for (let made = 0; made < TOTAL;) {
    const batch: Promise<unknown>[] = [];
    for (let k = 0; k < PER_SECOND / 10 && made < TOTAL; k++, made++) {
      const a = users[made % users.length]!;
      const b = users[(made + 1 + (made % 7)) % users.length]!;
      batch.push(
        ledger.transfer({ key: `t:${made}`, debit: a, credit: b, amount: 1 + (made % 9), reason: 'pay' }),
      );
    }
    await Promise.all(batch);
    await sleep(Math.max(0, began + (made / PER_SECOND) * 1000 - Date.now()));
  }
  const expected = (
    await t.db.selectFrom('transfers').select('id').where('id', '>', start.toString()).orderBy('id').execute()
  ).map((r) => String(r.id));
  const done = await waitFor(
    () => feedIds(fake.channelMessages(CHANNEL)).length >= expected.length,
    60_000,
    200,
  );
  stop = true;
  await relay;
  expect(done).toBe(true);

  const messages = fake.channelMessages(CHANNEL);
  expect(feedIds(messages)).toEqual(expected);
  expect(fake.problems).toEqual([]);
  const maxLagMs = await maxFeedLagMs(t.db, messages, start);
  console.log(
    JSON.stringify({
      transfers: expected.length,
      seconds: (Date.now() - began) / 1000,
      messages: messages.length,
      max_per_message: Math.max(...messages.map((m) => transferIdsIn(m).length)),
      max_lag_ms: maxLagMs,
    }),
  );
  expect(maxLagMs).toBeLessThan(60_000);
});

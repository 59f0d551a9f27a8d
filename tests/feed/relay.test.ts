import type { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/env.ts';
import { createLogger } from '../../config/logger.ts';
import { createRedis } from '../../db/redis.ts';
import { createDiscordRest } from '../../discord/rest.ts';
import { refundTransfer } from '../../economy/admin.ts';
import { loadCursor, type FeedEvent } from '../../economy/feed.ts';
import { applyInTransaction, Ledger } from '../../economy/ledger.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import { handleFeedRefresh } from '../../jobs/handlers/feed-refresh.ts';
import { channels } from '../../db/pubsub.ts';
import { handleFeedRelay } from '../../jobs/handlers/feed-relay.ts';
import { FakeDiscordApi } from '../../playground/discord/fake-api.ts';
import { createTestDatabase, fundedUsers, testRedisPrefix, type TestDatabase } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { feedIds, transferIdsIn } from './helpers.ts';

// The fake enforces Discord's per-channel message limit, shortened from 5 per 5 s to 5 per 1 s to keep this
// file fast; tests/feed/throughput.test.ts runs the real 5-per-5-s window.
const TOKEN = 'feed-test-token';
const GUILD = '930000000000000000';
const CHANNEL = '930000000000000001';

let t: TestDatabase;
let fake: FakeDiscordApi;
let redis: Redis;
let subscriber: Redis;
let rest: REST;
let deps: Parameters<typeof handleFeedRelay>[0];
let ledger: Ledger;
let users: string[];
const events: FeedEvent[] = [];

const allIdsAfter = async (after: bigint) =>
  (
    await t.db.selectFrom('transfers').select('id').where('id', '>', after.toString()).orderBy('id').execute()
  ).map((r) => String(r.id));
const feedMessages = () => fake.channelMessages(CHANNEL).filter((m) => m.content !== 'noise');
const runRelayFor = async (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until) await handleFeedRelay(deps, 200);
};
/** Runs the relay until `transferId` is in #coin-transactions (a loaded machine may need several runs). */
const relayUntilShown = async (transferId: string) => {
  const shown = await waitFor(async () => {
    await handleFeedRelay(deps, 200);
    return feedIds(feedMessages()).includes(transferId);
  }, 30_000);
  expect(shown).toBe(true);
};

beforeAll(async () => {
  t = await createTestDatabase();
  fake = await FakeDiscordApi.start({ token: TOKEN, messageRateLimit: { limit: 5, windowMs: 1000 } });
  fake.addGuild(GUILD, [{ id: CHANNEL, name: 'coin-transactions' }]);
  const prefix = testRedisPrefix();
  const cfg = parseConfig({
    DATABASE_URL: t.url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
    DISCORD_TOKEN: TOKEN,
    DISCORD_API_BASE: fake.url,
    GUILD_ID: GUILD,
  });
  redis = createRedis(REDIS_URL, 'command', 'feed-test');
  subscriber = new Redis(REDIS_URL);
  await subscriber.subscribe(channels.tx(prefix));
  subscriber.on('message', (_channel, message: string) => events.push(JSON.parse(message) as FeedEvent));
  rest = createDiscordRest(cfg);
  deps = { cfg, db: t.db, redis, rest, log: createLogger('silent') };
  ledger = new Ledger(t.db);
  users = await fundedUsers(t.db, 12, 100_000);
  await t.db.insertInto('guild_settings').values({ guild_id: GUILD, tx_channel_id: CHANNEL }).execute();
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await subscriber.quit();
  await redis.quit();
  await fake.close();
  await t.drop();
});

beforeEach(() => {
  fake.problems.length = 0;
});

/** Both cursors start at the newest transfer: the feed shows what happens from now on. */
async function cursorsAtHead() {
  const redisCursor = await loadCursor(t.db, 'redis');
  const discordCursor = await loadCursor(t.db, 'discord');
  expect(redisCursor.lastId).toBe(discordCursor.lastId);
  return discordCursor.lastId;
}

describe('feed relay', () => {
  it('shows a quiet transaction as a full embed with its buttons, and publishes it', async () => {
    const start = await cursorsAtHead();
    const pay = await ledger.transfer({
      key: 'quiet',
      debit: users[0]!,
      credit: users[1]!,
      amount: 42,
      reason: 'pay',
    });
    await relayUntilShown(pay.transferId);
    const [message] = feedMessages();
    expect(transferIdsIn(message!)).toEqual([pay.transferId]);
    const embed = message!.embeds[0] as {
      title: string;
      fields: { name: string; value: string }[];
      timestamp: string;
    };
    expect(embed.title).toBe(`#${pay.transferId} · Payment`);
    expect(embed.fields).toEqual(
      expect.arrayContaining([
        { name: 'Amount', value: '42 coins', inline: true },
        expect.objectContaining({ name: 'Balance after', value: expect.stringContaining('99,958') }),
      ]),
    );
    const buttons = (message!.components as { components: { custom_id: string; label: string }[] }[]).flatMap(
      (r) => r.components,
    );
    expect(buttons.map((b) => b.label)).toEqual(['Refund', 'Note', 'Freeze user0', 'Freeze user1']);
    expect(buttons[0]!.custom_id).toBe(`feed:refund:${pay.transferId}`);
    expect(events.map((e) => e.id)).toEqual(await allIdsAfter(start));
    expect(events.at(-1)).toMatchObject({
      kind: 'single',
      reason: 'pay',
      amount: 42,
      from: { account: users[0], balance: 99_958 },
      to: { account: users[1], balance: 100_042 },
    });
    expect(fake.problems).toEqual([]);
  });

  it('delivers a burst exactly once and in order through 429s, coalescing, with escrow state changes', async () => {
    const start = await cursorsAtHead();
    events.length = 0;
    let stop = false;
    const relay = (async () => {
      while (!stop) await handleFeedRelay(deps, 500);
    })();
    // Another client posting in the same channel shares its rate-limit bucket, so the relay's client meets 429s.
    const other = createDiscordRest(deps.cfg);
    const noise = (async () => {
      for (let i = 0; i < 8; i++) {
        await Promise.all(
          Array.from({ length: 5 }, () =>
            other.post(Routes.channelMessages(CHANNEL), { body: { content: 'noise' } }),
          ),
        );
      }
    })();
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      const a = users[i % users.length]!;
      const b = users[(i * 7 + 3) % users.length]!;
      if (i % 10 === 0) {
        ops.push(
          ledger
            .hold({
              key: `b:h:${i}`,
              debit: a,
              amount: 10,
              reason: 'market_purchase',
              expiresAt: new Date(Date.now() + 60_000),
            })
            .then((h) =>
              i % 20 === 0
                ? ledger.post({
                    key: `b:p:${i}`,
                    pendingId: h.transferId,
                    credit: b,
                    fee: 1,
                    reason: 'market_sale',
                  })
                : ledger.void({ key: `b:v:${i}`, pendingId: h.transferId, reason: 'cancelled' }),
            ),
        );
      } else if (a !== b) {
        ops.push(
          ledger.transfer({ key: `b:t:${i}`, debit: a, credit: b, amount: 1 + (i % 5), reason: 'pay' }),
        );
      }
      // A replayed key burns a sequence value: gaps that never fill.
      if (i % 50 === 0)
        ops.push(
          ledger.submit({
            op: 'transfer',
            key: 'quiet',
            debit: users[0]!,
            credit: users[1]!,
            amount: 42,
            reason: 'pay',
          }),
        );
      if (i % 40 === 0) await sleep(50);
    }
    await Promise.all(ops);
    await noise;
    const expected = await allIdsAfter(start);
    const done = await waitFor(() => feedIds(feedMessages()).length >= expected.length, 60_000);
    stop = true;
    await relay;
    expect(done).toBe(true);
    const shown = feedIds(feedMessages().slice(1));
    expect(shown).toEqual(expected);
    expect(new Set(shown).size).toBe(shown.length);
    expect(fake.rateLimited).toBeGreaterThan(0);
    expect(feedMessages().some((m) => transferIdsIn(m).length > 10)).toBe(true);
    expect(fake.problems).toEqual([]);

    await waitFor(() => events.length >= expected.length, 5000);
    expect(events.map((e) => e.id)).toEqual(expected);
    const resolutions = events.filter((e) => e.kind === 'post' || e.kind === 'void');
    expect(resolutions.length).toBeGreaterThan(0);
    for (const e of resolutions) {
      expect(e.hold).toEqual({ id: expect.any(String), state: e.kind === 'void' ? 'voided' : 'posted' });
    }
  });

  it('never skips a transfer whose transaction commits after a higher id is visible', async () => {
    const start = await cursorsAtHead();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let lateId = '';
    const late = t.db.transaction().execute(async (trx) => {
      const [r] = await applyInTransaction(
        trx,
        [{ op: 'transfer', key: 'gap:late', debit: users[2]!, credit: users[3]!, amount: 5, reason: 'pay' }],
        new Date(),
      );
      lateId = r!.ok ? r!.transferId : '';
      await gate;
    });
    await waitFor(() => lateId !== '', 5000, 10);
    const early = await ledger.transfer({
      key: 'gap:early',
      debit: users[4]!,
      credit: users[5]!,
      amount: 5,
      reason: 'pay',
    });
    expect(BigInt(early.transferId)).toBeGreaterThan(BigInt(lateId));

    // Well past the minimum gap age, the open transaction still holds the relay before the gap.
    await runRelayFor(1800);
    const cursor = await loadCursor(t.db, 'discord');
    expect(cursor.lastId).toBeLessThan(BigInt(lateId));
    expect(feedIds(feedMessages())).not.toContain(early.transferId);
    expect(events.map((e) => e.id)).not.toContain(early.transferId);

    release();
    await late;
    // A rolled-back transaction leaves a gap that never fills; the relay passes it once it is final. (Finality
    // waits for every writing transaction on the server that was running when the gap was seen, other test
    // databases' included, hence the generous timeout.)
    const rolledBack = await t.db
      .transaction()
      .execute(async (trx) => {
        await applyInTransaction(
          trx,
          [
            {
              op: 'transfer',
              key: 'gap:rolled',
              debit: users[6]!,
              credit: users[7]!,
              amount: 5,
              reason: 'pay',
            },
          ],
          new Date(),
        );
        throw new Error('roll back');
      })
      .catch(() => 'rolled back');
    expect(rolledBack).toBe('rolled back');
    const after = await ledger.transfer({
      key: 'gap:after',
      debit: users[8]!,
      credit: users[9]!,
      amount: 5,
      reason: 'pay',
    });
    // Both sides must get there: #coin-transactions and the Redis stream advance on cursors of their own.
    const shownAll = await waitFor(async () => {
      await handleFeedRelay(deps, 200);
      return (
        feedIds(feedMessages()).includes(after.transferId) && events.some((e) => e.id === after.transferId)
      );
    }, 30_000);
    expect(shownAll).toBe(true);
    const expected = await allIdsAfter(start);
    expect(expected).toEqual([lateId, early.transferId, after.transferId]);
    const shown = feedIds(feedMessages());
    expect(shown.slice(shown.indexOf(lateId))).toEqual(expected);
    expect(events.map((e) => e.id).slice(-3)).toEqual(expected);
  });

  it('resends the same batch with the same nonce after a crash between Discord accepting it and the cursor save', async () => {
    await cursorsAtHead();
    const pay = await ledger.transfer({
      key: 'crash',
      debit: users[0]!,
      credit: users[1]!,
      amount: 7,
      reason: 'pay',
    });
    const before = feedMessages().length;
    const crashing = {
      post: async (...args: Parameters<REST['post']>) => {
        await rest.post(...args);
        throw new Error('worker died after Discord accepted the message');
      },
    } as unknown as REST;
    await handleFeedRelay({ ...deps, rest: crashing }, 300);
    expect(feedMessages().length).toBe(before + 1);
    const planned = await loadCursor(t.db, 'discord');
    expect(planned.plan).toMatchObject({ first: pay.transferId, last: pay.transferId });

    // The resend may wait on the fake's rate limit, longer on a loaded machine: run until the cursor moves.
    const resent = await waitFor(async () => {
      await handleFeedRelay(deps, 200);
      return (await loadCursor(t.db, 'discord')).lastId === BigInt(pay.transferId);
    }, 30_000);
    expect(resent).toBe(true);
    expect(fake.nonceHits).toBe(1);
    expect(feedMessages().length).toBe(before + 1);
    expect(feedIds(feedMessages()).filter((id) => id === pay.transferId)).toHaveLength(1);
    const cursor = await loadCursor(t.db, 'discord');
    expect(cursor).toMatchObject({ lastId: BigInt(pay.transferId), plan: null });
    const rows = await t.db
      .selectFrom('feed_messages')
      .selectAll()
      .where('first_transfer_id', '=', pay.transferId)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('runs one relay at a time: a concurrent run (another worker replica) finds the lock taken and does nothing', async () => {
    const runs = await Promise.all([
      handleFeedRelay(deps, 500),
      handleFeedRelay(deps, 500),
      handleFeedRelay(deps, 500),
    ]);
    expect(runs.filter((r) => r.ran)).toHaveLength(1);
    // The lock is released with the run.
    expect((await handleFeedRelay(deps, 50)).ran).toBe(true);
  });

  it('edits the feed message after a refund to show the outcome and who acted', async () => {
    await cursorsAtHead();
    const pay = await ledger.transfer({
      key: 'edit',
      debit: users[0]!,
      credit: users[1]!,
      amount: 9,
      reason: 'pay',
    });
    await relayUntilShown(pay.transferId);
    const message = feedMessages().find((m) => transferIdsIn(m).includes(pay.transferId))!;
    await refundTransfer(
      { db: t.db, now: () => new Date() },
      { kind: 'member', userId: users[11]!, role: 'moderator', source: 'discord', requestId: 'r1' },
      { transferId: pay.transferId, reason: 'mistake' },
    );
    expect(await handleFeedRefresh(deps, { transferId: pay.transferId })).toEqual({ edited: true });
    const edited = fake.channelMessages(CHANNEL).find((m) => m.id === message.id)!;
    expect(edited.edited_timestamp).not.toBeNull();
    const embed = edited.embeds[0] as { fields: { name: string; value: string }[] };
    const admin = embed.fields.find((f) => f.name === 'Admin')!;
    expect(admin.value).toMatch(/Refunded 9 coins by <@100000000000000011> .* — mistake/);
    const labels = (edited.components as { components: { label: string }[] }[]).flatMap((r) =>
      r.components.map((c) => c.label),
    );
    expect(labels).not.toContain('Refund');
    expect(fake.problems).toEqual([]);
  });
});

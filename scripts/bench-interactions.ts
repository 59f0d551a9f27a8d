/**
 * npm run bench:interactions — the Discord endpoint under load, 50 connections, server as its own process
 * (the real entry point, ROLE=all) on a fresh database.
 *   card:   My Card clicks (signed, verified, rate-limited, user upserted, card read) — rps and p99
 *   daily:  Claim Daily by distinct users (each creates a user and claims once) — rps and p99
 *   reject: requests with bad signatures — rps (all must be 401)
 *   large:  My Card p99 again after seeding 100,000 users and 1,000,000 transfers, as a ratio of the first
 *   rss:    the server's peak resident memory through the whole run
 * Last line: {"card_rps":..,"card_p99_ms":..,"daily_rps":..,"daily_p99_ms":..,"reject_rps":..,
 *             "card_p99_ratio_large_db":..,"rss_mb":..}
 */
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { createDb, type Db } from '../db/client.ts';
import { checkLedger } from '../economy/ledger-check.ts';
import { createDiscordSigner } from '../playground/signer.ts';
import { buttonClick, TEST_GUILD_ID } from '../playground/interactions.ts';
import { startServer } from '../tests/helpers/server-process.ts';
import { freshDatabase } from './bench-db.ts';
import { benchServerEnv, loadPosts, runBench, serverEntry, type Prepared } from './bench-server.ts';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB_NAME = 'coinhub_bench_interactions';
const LARGE_DB_NAME = 'coinhub_bench_interactions_large';
const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SMALL_USERS = 2_000;
const LARGE_USERS = 100_000;
const LARGE_TRANSFERS = 1_000_000;
const REDIS_PREFIX = `bench-interactions-${process.pid}`;

/**
 * Seeds `users` wallets (ids from `firstId`) and `transfers` transfers in plain SQL that keeps the ledger
 * balanced: each user is minted 1,000 coins, then rounds of user→user transfers of 1 coin in which every
 * user sends once and receives once, so every stored balance stays 1,000 and equals its transfers.
 */
async function seedLedger(db: Db, firstId: number, users: number, transfers: number, discordBase: bigint) {
  const last = firstId + users - 1;
  await sql`
    insert into users (id, discord_id, username, created_at)
    select g, (${discordBase.toString()}::bigint + g)::text, 'seed' || g, now() - interval '400 days'
    from generate_series(${firstId}::bigint, ${last}::bigint) g`.execute(db);
  await sql`
    insert into accounts (id, kind, balance)
    select g, 'user', 1000 from generate_series(${firstId}::bigint, ${last}::bigint) g`.execute(db);
  await sql`
    insert into transfers (idempotency_key, debit_account_id, credit_account_id, amount, phase, state, reason,
                           created_at)
    select 'seed:mint:' || g, 1, g, 1000, 'single', 'posted', 'admin_adjust', now() - interval '365 days'
    from generate_series(${firstId}::bigint, ${last}::bigint) g`.execute(db);
  const rounds = Math.floor((transfers - users) / users);
  for (let r = 0; r < rounds; r++) {
    // Round r: user i pays user i+1+r (mod n), one coin, so each user sends once and receives once.
    await sql`
      insert into transfers (idempotency_key, debit_account_id, credit_account_id, amount, phase, state, reason,
                             memo, created_at)
      select 'seed:pay:' || ${firstId}::bigint || ':' || ${r}::int || ':' || i, ${firstId}::bigint + i,
             ${firstId}::bigint + ((i + 1 + ${r}::int) % ${users}::int), 1, 'single', 'posted', 'pay', 'seed',
             now() - make_interval(secs => (${rounds}::int - ${r}::int) * 3600 + i % 3600)
      from generate_series(0, ${users - 1}::int) i`.execute(db);
  }
  // As a live database of that size would be: statistics and visibility map kept by autovacuum (this machine
  // runs Postgres without it), and the seeding's dirty pages written by a checkpoint instead of during the run.
  await sql`vacuum analyze`.execute(db);
  await sql`checkpoint`.execute(db);
}

function rssSampler(pid: number) {
  let peak = 0;
  const sample = () => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kb);
    } catch {
      // the process is gone
    }
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return Math.round(peak / 1024);
    },
  };
}

const load = (url: string, bodies: Prepared[], seconds = SECONDS) =>
  loadPosts(`${url}/interactions`, bodies, CONNECTIONS, seconds);

async function main() {
  const entry = serverEntry();
  const signer = createDiscordSigner();
  const sign = (payload: unknown): Prepared => {
    const body = JSON.stringify(payload);
    return { body, headers: signer.signedHeaders(body) };
  };
  const cardClicks = (firstId: number, users: number, discordBase: bigint, n = 20_000) =>
    Array.from({ length: n }, (_, i) => {
      const id = firstId + ((i * 7919) % users);
      return sign(
        buttonClick('hub:card', { id: (discordBase + BigInt(id)).toString(), username: `seed${id}` }),
      );
    });
  /** The real entry point on `url`, with its RSS sampled until it stops. */
  const serve = async (url: string) => {
    const server = await startServer(
      {
        ...benchServerEnv(url, REDIS_URL, REDIS_PREFIX),
        DISCORD_PUBLIC_KEY: signer.publicKeyHex,
        GUILD_ID: TEST_GUILD_ID,
        // The limiter still runs on every request; the bench's users click far more often than people do.
        RATE_LIMIT_ACTIONS: '10000',
        RATE_LIMIT_WINDOW_S: '1',
      },
      { timeoutMs: 120_000, entry },
    );
    return { server, rss: rssSampler(server.child.pid!) };
  };

  // Phase 1: a nearly empty database (2,000 players with a few transfers each).
  const smallBase = 400_000_000_000_000_000n;
  const smallUrl = await freshDatabase(DB_NAME);
  const small = createDb(smallUrl, 4);
  console.log(`seeding ${SMALL_USERS} users…`);
  await seedLedger(small, 1_000_000, SMALL_USERS, SMALL_USERS * 3, smallBase);
  const a = await serve(smallUrl);
  let card, daily, reject, rssSmall;
  try {
    const probe = await fetch(`${a.server.url}/interactions`, {
      method: 'POST',
      ...cardClicks(1_000_000, 1, smallBase, 1)[0]!,
    });
    const probeBody = (await probe.json()) as { data?: { embeds?: { title?: string }[] } };
    if (probeBody.data?.embeds?.[0]?.title !== 'My Card') {
      throw new Error(`unexpected card answer: ${JSON.stringify(probeBody)}`);
    }
    console.log('warm-up…');
    await load(a.server.url, cardClicks(1_000_000, SMALL_USERS, smallBase, 5_000), 3);
    console.log('My Card…');
    card = await load(a.server.url, cardClicks(1_000_000, SMALL_USERS, smallBase));
    console.log(JSON.stringify({ phase: 'card', ...card }));

    console.log('Claim Daily, distinct users…');
    const dailyBase = 500_000_000_000_000_000n;
    daily = await load(
      a.server.url,
      Array.from({ length: 60_000 }, (_, i) =>
        sign(buttonClick('hub:daily', { id: (dailyBase + BigInt(i)).toString(), username: `daily${i}` })),
      ),
    );
    console.log(JSON.stringify({ phase: 'daily', ...daily }));

    console.log('bad signatures…');
    const valid = sign(buttonClick('hub:card', { id: '400000000000000001' }));
    const sig = valid.headers['x-signature-ed25519']!;
    const forged = {
      ...valid,
      headers: { ...valid.headers, 'x-signature-ed25519': (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1) },
    };
    reject = await load(a.server.url, [forged]);
    console.log(JSON.stringify({ phase: 'reject', ...reject }));
  } finally {
    rssSmall = a.rss.stop();
    await a.server.stop();
  }
  const claims = Number(
    (await sql<{ n: string }>`select count(*) as n from daily_claims`.execute(small)).rows[0]!.n,
  );
  const smallLedger = await checkLedger(small);
  await small.destroy();

  // Phase 2: the same card on 100,000 players and 1,000,000 transfers, seeded before the server starts (so the
  // transaction feed treats it as history, as it would a real community's).
  const largeBase = 600_000_000_000_000_000n;
  const largeUrl = await freshDatabase(LARGE_DB_NAME);
  const large = createDb(largeUrl, 4);
  console.log(`seeding ${LARGE_USERS} users and ${LARGE_TRANSFERS} transfers…`);
  await seedLedger(large, 2_000_000, LARGE_USERS, LARGE_TRANSFERS, largeBase);
  const b = await serve(largeUrl);
  let cardLarge, rssLarge;
  try {
    await load(b.server.url, cardClicks(2_000_000, LARGE_USERS, largeBase, 5_000), 3);
    console.log('My Card, large database…');
    cardLarge = await load(b.server.url, cardClicks(2_000_000, LARGE_USERS, largeBase));
    console.log(JSON.stringify({ phase: 'card_large', ...cardLarge }));
  } finally {
    rssLarge = b.rss.stop();
    await b.server.stop();
  }
  const largeLedger = await checkLedger(large);
  const transfers = Number(
    (await sql<{ n: string }>`select count(*) as n from transfers`.execute(large)).rows[0]!.n,
  );
  await large.destroy();

  console.log(
    JSON.stringify({
      ledger_ok: smallLedger.ok && largeLedger.ok,
      large_db_transfers: transfers,
      daily_claims: claims,
      reject_all_401: reject.ok === 0 && reject.errors === 0,
      rss_mb_small: rssSmall,
      rss_mb_large: rssLarge,
    }),
  );
  if (!smallLedger.ok || !largeLedger.ok) throw new Error('ledger check failed');
  console.log(
    JSON.stringify({
      card_rps: card.rps,
      card_p99_ms: card.p99,
      daily_rps: daily.rps,
      daily_p99_ms: daily.p99,
      reject_rps: reject.rps,
      card_p99_ratio_large_db: Number((cardLarge.p99 / Math.max(card.p99, 1)).toFixed(2)),
      rss_mb: Math.max(rssSmall, rssLarge),
    }),
  );
}

runBench(main, REDIS_URL, REDIS_PREFIX);

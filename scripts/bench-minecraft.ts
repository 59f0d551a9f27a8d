/**
 * npm run bench:minecraft — the Minecraft webhook under load: 20 concurrent senders, the real entry point
 * (compiled, ROLE=all) on a fresh database with 2,000 linked players.
 *   grant:  signed `reward.grant` events, each with a new webhook-id — events/s and p99
 *   replay: the same events again (ids already seen) — events/s; each must get its first answer
 *   floor:  the same grant load on scripts/minecraft-floor.ts (verify + one insert per event, nothing else)
 * Checks afterwards: one `minecraft_reward` transfer per accepted grant, none from the replays, and the ledger
 * invariants. Last line: {"grant_eps":..,"grant_p99_ms":..,"replay_eps":..,"invariant_ok":..}
 */
import { createDiscordSigner } from '../playground/signer.ts';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import { createDb } from '../db/client.ts';
import { checkLedger } from '../economy/ledger-check.ts';
import { signWebhook } from '../minecraft/signing.ts';
import { freePort, startServer } from '../tests/helpers/server-process.ts';
import { freshDatabase } from './bench-db.ts';
import { benchServerEnv, loadPosts, runBench, serverEntry, type Prepared } from './bench-server.ts';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB_NAME = 'coinhub_bench_minecraft';
const FLOOR_DB_NAME = 'coinhub_bench_minecraft_floor';
const SENDERS = 20;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PLAYERS = 2_000;
const REDIS_PREFIX = `bench-minecraft-${process.pid}`;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** `count` reward.grant events for the seeded players, signed now (valid for the next five minutes). */
function grants(uuids: string[], count: number, run: string): Prepared[] {
  return Array.from({ length: count }, (_, i) => {
    const body = JSON.stringify({
      type: 'reward.grant',
      server: 'bench',
      data: { uuid: uuids[i % uuids.length], amount: 1 + (i % 5), source: 'playtime' },
    });
    return {
      body,
      headers: { 'content-type': 'application/json', ...signWebhook(SECRET, `${run}-${i}`, body) },
    };
  });
}

async function load(url: string, events: Prepared[], seconds = SECONDS) {
  const { rps, used, ...rest } = await loadPosts(`${url}/webhooks/minecraft`, events, SENDERS, seconds);
  return { eps: rps, ...rest, used: Math.min(used, events.length) };
}

const count = async (db: ReturnType<typeof createDb>, query: ReturnType<typeof sql<{ n: string }>>) =>
  Number((await query.execute(db)).rows[0]!.n);

async function main() {
  const entry = serverEntry();
  const url = await freshDatabase(DB_NAME);
  const db = createDb(url, 4);
  console.log(`seeding ${PLAYERS} linked players…`);
  await sql`
    with u as (
      insert into users (discord_id, username, minecraft_uuid, minecraft_name)
      select (700000000000000000 + g)::text, 'p' || g, gen_random_uuid(), 'player_' || g
      from generate_series(1, ${PLAYERS}::int) g
      returning id)
    insert into accounts (id, kind) select id, 'user' from u`.execute(db);
  await sql`vacuum analyze`.execute(db);
  const uuids = (await db.selectFrom('users').select('minecraft_uuid').execute()).map(
    (r) => r.minecraft_uuid!,
  );

  const server = await startServer(
    {
      ...benchServerEnv(url, REDIS_URL, REDIS_PREFIX),
      // No interaction is sent; the server only needs a valid key to start.
      DISCORD_PUBLIC_KEY: createDiscordSigner().publicKeyHex,
      GUILD_ID: '900000000000000001',
      REDEMPTION_WEBHOOK_SECRET: SECRET,
      MINECRAFT_REWARD_DAILY_CAP: '1000000000',
    },
    { timeoutMs: 120_000, entry },
  );
  let grant, replay;
  try {
    console.log('warm-up…');
    await load(server.url, grants(uuids, 5_000, 'warm'), 3);
    console.log('reward.grant, new ids…');
    const events = grants(uuids, 80_000, 'grant');
    grant = await load(server.url, events);
    console.log(JSON.stringify({ phase: 'grant', ...grant }));
    console.log('replays of seen ids…');
    replay = await load(server.url, events.slice(0, grant.used));
    console.log(JSON.stringify({ phase: 'replay', ...replay }));
  } finally {
    await server.stop();
  }

  const rewards = await count(
    db,
    sql`select count(*)::text as n from transfers where reason = 'minecraft_reward'`,
  );
  const accepted = await count(
    db,
    sql`select count(*)::text as n from minecraft_events where status = 200 and type = 'reward.grant'`,
  );
  const ledger = await checkLedger(db);
  await db.destroy();
  const invariantOk =
    ledger.ok && rewards === accepted && replay.non2xx === 0 && replay.errors === 0 && grant.non2xx === 0;
  console.log(JSON.stringify({ rewards, accepted, ledger_ok: ledger.ok }));

  console.log('floor: verify + one insert per event in a bare node:http server…');
  const floorUrl = await freshDatabase(FLOOR_DB_NAME);
  const port = await freePort();
  const floor = spawn(process.execPath, ['--import', 'tsx', 'scripts/minecraft-floor.ts'], {
    env: {
      PATH: process.env.PATH,
      FLOOR_DATABASE_URL: floorUrl,
      FLOOR_SECRET: SECRET,
      FLOOR_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => floor.stdout!.once('data', () => resolve()));
  const floorResult = await load(`http://127.0.0.1:${port}`, grants(uuids, 80_000, 'floor'));
  floor.kill('SIGTERM');
  console.log(
    JSON.stringify({
      phase: 'floor',
      ...floorResult,
      load_avg: os.loadavg().map((l) => Number(l.toFixed(2))),
    }),
  );

  console.log(
    JSON.stringify({
      grant_eps: grant.eps,
      grant_p99_ms: grant.p99,
      replay_eps: replay.eps,
      invariant_ok: invariantOk,
    }),
  );
  if (!invariantOk) throw new Error('invariant failed');
}

runBench(main, REDIS_URL, REDIS_PREFIX);

import { Routes, type APIMessage } from 'discord-api-types/v10';
import { sql } from 'kysely';
import {
  CursorMoved,
  advanceCursor,
  createCursor,
  feedAnnotations,
  feedTransfersBetween,
  readAfterCursor,
  readCursor,
  recordFeedMessage,
  savePlan,
  toFeedEvent,
  type FeedCursor,
} from '../../economy/feed.ts';
import { channels } from '../../db/pubsub.ts';
import { guildChannel } from '../../economy/guild-settings.ts';
import { linesThatFit, MAX_EMBEDS, renderFeedMessage } from '../../discord/views/feed.ts';
import type { WorkerDeps } from '../deps.ts';
import { messageNonce } from '../../discord/nonce.ts';

type RelayDeps = Pick<WorkerDeps, 'cfg' | 'db' | 'redis' | 'rest' | 'log'>;

/** Session-level advisory lock key held by the one running relay ('coinfeed' in ASCII). */
const RELAY_LOCK = 0x636f_696e_6665_6564n;
/** How long one relay job runs before it hands over to the next scheduled one. */
const RUN_BUDGET_MS = 5000;
const IDLE_POLL_MS = 200;
const REDIS_BATCH = 500;
const DISCORD_READ = 200;

export interface RelayRun {
  /** False when another relay held the lock and this job did nothing. */
  ran: boolean;
  published: number;
  posted: number;
  messages: number;
}

/**
 * The nonce of the feed message covering transfers first..last. Deterministic, so a resend after a crash
 * between Discord's answer and the cursor save is deduplicated by Discord (`enforce_nonce`). At most 25 chars.
 */
export const feedNonce = (first: string, last: string) => messageNonce('feed', first, last);

/**
 * One relay run: publishes every new transfer to Redis and posts it to the guild's #coin-transactions, until
 * caught up and `budgetMs` has passed. Only one relay runs at a time across worker replicas: the run holds a
 * Postgres advisory lock on a dedicated connection, which the server releases the moment that connection
 * dies, so a killed worker never blocks its successor and there is no lease to expire while a paused holder
 * still writes. Cursor moves are compare-and-set as well, so even an overlap could not skip or repeat.
 */
export async function handleFeedRelay(deps: RelayDeps, budgetMs = RUN_BUDGET_MS): Promise<RelayRun> {
  return deps.db.connection().execute(async (conn) => {
    const { rows } = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_lock(${RELAY_LOCK}) as locked`.execute(conn);
    if (!rows[0]?.locked) return { ran: false, published: 0, posted: 0, messages: 0 };
    try {
      const deadline = Date.now() + budgetMs;
      await createCursor(deps.db, 'redis');
      await createCursor(deps.db, 'discord');
      const [published, discord] = await Promise.all([
        untilDeadline(deadline, () => publishStep(deps)),
        untilDeadline(deadline, () => postStep(deps)),
      ]);
      return { ran: true, published: published.items, posted: discord.items, messages: discord.steps };
    } finally {
      await sql`select pg_advisory_unlock(${RELAY_LOCK})`.execute(conn);
    }
  });
}

/** Repeats `step` until the deadline, pausing while there is nothing to do. */
async function untilDeadline(deadline: number, step: () => Promise<number>) {
  let items = 0;
  let steps = 0;
  while (Date.now() < deadline) {
    const n = await step();
    if (n < 0) break;
    if (n > 0) {
      items += n;
      steps++;
    } else {
      await new Promise((r) => setTimeout(r, IDLE_POLL_MS));
    }
  }
  return { items, steps };
}

/** Publishes the next transfers to Redis, in order, then moves the Redis cursor. -1 stops the loop. */
async function publishStep(deps: RelayDeps): Promise<number> {
  try {
    const cursor = await readCursor(deps.db, 'redis');
    const transfers = await readAfterCursor(deps.db, cursor, REDIS_BATCH);
    if (transfers.length === 0) return 0;
    const channel = channels.tx(deps.cfg.REDIS_PREFIX);
    const pipeline = deps.redis.pipeline();
    for (const t of transfers) pipeline.publish(channel, JSON.stringify(toFeedEvent(t)));
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
    await advanceCursor(deps.db, 'redis', cursor.lastId, BigInt(transfers[transfers.length - 1]!.id));
    return transfers.length;
  } catch (err) {
    return stopOn(deps, 'redis', err);
  }
}

/**
 * Posts the next feed message and moves the Discord cursor past it. The batch is written down (the plan)
 * before it is sent and the cursor moves only after Discord accepted it; a restart resends the same plan
 * with the same nonce. Few waiting: one embed each (up to 10); further behind: compact lines, as many as fit.
 * While no feed channel is set up the cursor moves on without posting. A plan already written waits for a
 * channel instead, so a message Discord may have accepted is never dropped.
 */
async function postStep(deps: RelayDeps): Promise<number> {
  try {
    let cursor: FeedCursor = await readCursor(deps.db, 'discord');
    // Read every step, not once per run: while there is no channel the cursor moves on without posting, so a
    // channel set up mid-run must be seen at once. The tx channel of GUILD_ID, or of the one guild set up.
    const channelId = deps.cfg.DISCORD_TOKEN
      ? await guildChannel(deps.db, 'tx_channel_id', deps.cfg.GUILD_ID)
      : null;
    if (!channelId && !cursor.plan) {
      // No feed channel (or no bot token): nothing to post to, so the feed starts when one is set up.
      const passed = await readAfterCursor(deps.db, cursor, DISCORD_READ);
      if (passed.length === 0) return 0;
      await advanceCursor(deps.db, 'discord', cursor.lastId, BigInt(passed[passed.length - 1]!.id));
      return passed.length;
    }
    if (!channelId) return -1;
    let transfers;
    if (cursor.plan) {
      transfers = await feedTransfersBetween(deps.db, cursor.plan.first, cursor.plan.last);
    } else {
      const available = await readAfterCursor(deps.db, cursor, DISCORD_READ);
      if (available.length === 0) return 0;
      const mode = available.length <= MAX_EMBEDS ? 'embeds' : 'lines';
      transfers = available.slice(0, mode === 'embeds' ? available.length : linesThatFit(available));
      cursor = await savePlan(deps.db, cursor, {
        first: transfers[0]!.id,
        last: transfers[transfers.length - 1]!.id,
        mode,
      });
    }
    const plan = cursor.plan!;
    const nonce = feedNonce(plan.first, plan.last);
    // Usually none; an action taken (from the panel) before the feed caught up shows from the start.
    const annotations = await feedAnnotations(deps.db, transfers);
    const message = (await deps.rest.post(Routes.channelMessages(channelId), {
      body: { ...renderFeedMessage(plan.mode, transfers, annotations), nonce, enforce_nonce: true },
    })) as APIMessage;
    await recordFeedMessage(deps.db, cursor, { channelId, messageId: message.id, nonce });
    return transfers.length;
  } catch (err) {
    return stopOn(deps, 'discord', err);
  }
}

function stopOn(deps: RelayDeps, consumer: string, err: unknown): number {
  if (err instanceof CursorMoved) deps.log.warn({ consumer }, 'feed cursor moved under the relay; stopping');
  else
    deps.log.error(
      { consumer, err: err instanceof Error ? err.message : String(err) },
      'feed relay step failed',
    );
  return -1;
}

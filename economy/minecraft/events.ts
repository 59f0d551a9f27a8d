import { sql } from 'kysely';
import { isRetryableError, retrying, type Db, type Tx } from '../../db/client.ts';
import { coalescePer } from '../../db/coalesce.ts';
import { AppError } from '../errors.ts';

/** One webhook event as the edge verified it: its `webhook-id` (the dedupe key), type and sending server. */
export interface EventMeta {
  webhookId: string;
  type: string;
  server: string;
}

/** The answer the plugin got the first time, which every repeat of the id gets again. */
export interface EventAnswer {
  status: number;
  body: { ok: true; message: string } | { error: { code: string; message: string } };
}

export interface EventResult<E> {
  answer: EventAnswer;
  /** True when this id was seen before: nothing was done now. */
  replayed: boolean;
  /** What the edge does after the commit (queue a delivery, send a DM); null for a replay or a refusal. */
  effects: E | null;
}

export const okAnswer = (message: string): EventAnswer => ({ status: 200, body: { ok: true, message } });
export const refusalAnswer = (err: AppError): EventAnswer => ({
  status: err.status,
  body: { error: { code: err.code, message: err.message } },
});

interface AnswerRow {
  webhook_id: string;
  status: number;
  answer: unknown;
}
const toAnswer = (r: AnswerRow): EventAnswer => ({ status: r.status, body: r.answer as EventAnswer['body'] });

/** The stored answers of the ids asked for in one event-loop turn, in one query: replays cost one round trip. */
const findAnswers = coalescePer(async (db: Db, ids: string[]) => {
  const rows = await db
    .selectFrom('minecraft_events')
    .select(['webhook_id', 'status', 'answer'])
    .where(sql<boolean>`webhook_id = any(${[...new Set(ids)]}::text[])`)
    .execute();
  const byId = new Map(rows.map((r) => [r.webhook_id, toAnswer(r)]));
  return ids.map((id) => byId.get(id));
});

/** The first answer to `webhookId`, if the event was seen. */
export const storedAnswer = (db: Db, webhookId: string): Promise<EventAnswer | undefined> =>
  findAnswers(db, webhookId);

/** `insert … returning webhook_id` of events not seen yet, as a statement or a CTE of a larger one. */
export const claimSql = (events: EventMeta[], answers: EventAnswer[], now: Date) => sql<{
  webhook_id: string;
}>`
  insert into minecraft_events (webhook_id, type, server, status, answer, received_at)
  select * from unnest(${events.map((e) => e.webhookId)}::text[], ${events.map((e) => e.type)}::text[],
                       ${events.map((e) => e.server)}::text[], ${answers.map((a) => a.status)}::int[],
                       ${answers.map((a) => JSON.stringify(a.body))}::jsonb[], ${events.map(() => now)}::timestamptz[])
  on conflict (webhook_id) do nothing
  returning webhook_id`;

/**
 * Claims event ids inside a transaction: returns those this transaction inserted. A concurrent transaction
 * inserting the same id makes this insert wait for its commit and then skip the id, whose answer is read with
 * `answersOf` once the claim returns.
 */
export async function claimEvents(trx: Tx, events: EventMeta[], answers: EventAnswer[], now: Date) {
  if (events.length === 0) return new Set<string>();
  const { rows } = await claimSql(events, answers, now).execute(trx);
  return new Set(rows.map((r) => r.webhook_id));
}

/** `update …` that replaces claimed events' placeholder answers with their real ones (a statement or a CTE). */
export function saveAnswersSql(answers: Map<string, EventAnswer>) {
  const ids = [...answers.keys()];
  return sql`
    update minecraft_events e set status = v.status, answer = v.answer
    from unnest(${ids}::text[], ${ids.map((id) => answers.get(id)!.status)}::int[],
                ${ids.map((id) => JSON.stringify(answers.get(id)!.body))}::jsonb[]) as v(id, status, answer)
    where e.webhook_id = v.id
    returning 1`;
}

/** The stored answers of ids another transaction claimed. */
export async function answersOf(db: Db | Tx, ids: string[]): Promise<Map<string, EventAnswer>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('minecraft_events')
    .select(['webhook_id', 'status', 'answer'])
    .where('webhook_id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.webhook_id, toAnswer(r)]));
}

/**
 * Serialization failures and deadlocks, and a player linked concurrently by two codes (the unique uuid of
 * `users`): a rerun sees the other link and moves it.
 */
const retryableForEvents = (err: unknown) =>
  isRetryableError(err) ||
  ((err as { code?: string }).code === '23505' &&
    (err as { constraint?: string }).constraint === 'users_minecraft_uuid_key');

const PENDING: EventAnswer = { status: 500, body: { error: { code: 'pending', message: 'Being handled.' } } };

/**
 * Handles one event exactly once by its `webhook-id`: a seen id gets its first answer and nothing runs; a new
 * one is claimed in the same transaction as `handle`'s writes, so the claim and the effect commit together.
 * A refusal (an AppError from `handle`) rolls the writes back and is stored as the answer, so a repeat is
 * refused the same way without running again.
 */
export async function runEvent<E>(
  db: Db,
  meta: EventMeta,
  now: Date,
  handle: (trx: Tx) => Promise<{ message: string; effects: E }>,
): Promise<EventResult<E>> {
  const seen = await storedAnswer(db, meta.webhookId);
  if (seen) return { answer: seen, replayed: true, effects: null };
  try {
    return await retrying(
      () =>
        db.transaction().execute(async (trx): Promise<EventResult<E>> => {
          const claimed = await claimEvents(trx, [meta], [PENDING], now);
          if (!claimed.has(meta.webhookId)) {
            const first = (await answersOf(trx, [meta.webhookId])).get(meta.webhookId)!;
            return { answer: first, replayed: true, effects: null };
          }
          const { message, effects } = await handle(trx);
          const answer = okAnswer(message);
          await saveAnswersSql(new Map([[meta.webhookId, answer]])).execute(trx);
          return { answer, replayed: false, effects };
        }),
      { isRetryable: retryableForEvents },
    );
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return recordRefusal(db, meta, err, now);
  }
}

/** Stores a refusal as an event's answer; if a concurrent copy of the event answered first, returns that. */
export async function recordRefusal<E>(
  db: Db,
  meta: EventMeta,
  err: AppError,
  now: Date,
): Promise<EventResult<E>> {
  const answer = refusalAnswer(err);
  return retrying(() =>
    db.transaction().execute(async (trx) => {
      const claimed = await claimEvents(trx, [meta], [answer], now);
      if (claimed.has(meta.webhookId)) return { answer, replayed: false, effects: null };
      const first = (await answersOf(trx, [meta.webhookId])).get(meta.webhookId)!;
      return { answer: first, replayed: true, effects: null };
    }),
  );
}

/**
 * Forgets events received before `before`. A replay that old fails verification anyway (its signed timestamp
 * is more than 5 minutes off), so ids only need keeping for a while; the sweeper keeps a day.
 */
export async function pruneEvents(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('minecraft_events').where('received_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

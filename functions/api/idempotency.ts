import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../economy/errors.ts';
import type { AppEnv } from '../context.ts';

const KEY = /^[\x21-\x7e]{8,200}$/;

/** How long a key's first response is kept for retries; the worker deletes older ones. */
export const IDEMPOTENCY_RETENTION_H = 24;

/**
 * For routes that move money: the request must carry an `Idempotency-Key` (8 to 200 visible ASCII
 * characters). The first request with a key runs and its response is stored in Postgres; a retry with the
 * same key and the same method, path and body gets that response again (`Idempotent-Replayed: true`) without
 * running; the same key with another request is refused with 409, as is a retry while the first still runs.
 * A 5xx answer is not stored, so the client may retry it. Keys belong to their caller.
 */
export function requireIdempotencyKey(db: Db): MiddlewareHandler<AppEnv> {
  return async function idempotency(c, next) {
    const key = c.req.header('idempotency-key');
    if (key === undefined || !KEY.test(key)) {
      throw new AppError(
        'idempotency_key_required',
        'This request moves coins: send an Idempotency-Key header of 8 to 200 visible ASCII characters.',
        400,
      );
    }
    const actor = c.get('actor');
    const scope = `${actor.via}:${actor.userId}`;
    const body = await c.req.text();
    const hash = createHash('sha256')
      .update(`${c.req.method} ${c.req.path}\n${body}`)
      .digest('base64url');

    const reserved = await db
      .insertInto('api_idempotency')
      .values({ scope, key, request_hash: hash })
      .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!reserved) {
      const first = await db
        .selectFrom('api_idempotency')
        .select(['request_hash', 'status', 'body'])
        .where('scope', '=', scope)
        .where('key', '=', key)
        .executeTakeFirst();
      if (!first) throw new AppError('idempotency_busy', 'That request is being retried; try again.', 409);
      if (first.request_hash !== hash) {
        throw new AppError(
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different request; use a new key for a new request.',
          409,
        );
      }
      if (first.status === null) {
        throw new AppError('idempotency_in_progress', 'The first request with this key is still running.', 409);
      }
      c.header('Idempotent-Replayed', 'true');
      return c.json(first.body as object, first.status as 200);
    }

    await next();
    const status = c.res.status;
    if (status >= 500) {
      await db.deleteFrom('api_idempotency').where('scope', '=', scope).where('key', '=', key).execute();
      return;
    }
    const answer: unknown = await c.res.clone().json();
    await db
      .updateTable('api_idempotency')
      .set({ status, body: JSON.stringify(answer) })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
  };
}

/** Drops stored responses older than the retention window. */
export async function pruneIdempotencyKeys(db: Db, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_RETENTION_H * 3600_000);
  const result = await db.deleteFrom('api_idempotency').where('created_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}

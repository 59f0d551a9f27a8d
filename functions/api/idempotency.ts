import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Db } from '../../db/client.ts';
import { findRequest, releaseKey, reserveKey, saveResponse } from '../../db/idempotency.ts';
import { AppError } from '../../economy/errors.ts';
import type { AppEnv } from '../context.ts';

const KEY = /^[\x21-\x7e]{8,200}$/;
/** A key reserved this long without a stored response belongs to a request that died. */
const ABANDONED_MS = 60_000;

/**
 * For routes that move money: the request must carry an `Idempotency-Key` (8 to 200 visible ASCII
 * characters). The first request with a key runs and its response is stored in Postgres; a retry with the
 * same key and the same method, path and body gets that response again (`Idempotent-Replayed: true`) without
 * running; the same key with another request is refused with 409, as is a retry while the first still runs.
 * A 5xx answer is not stored, so the client may retry it, and a first request that died unanswered is run
 * again after a minute. Keys belong to their caller and are kept for IDEMPOTENCY_RETENTION_H hours.
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
    const scope = `${c.get('auth').kind}:${c.get('actor').userId}`;
    const body = await c.req.text();
    const hash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n${body}`).digest('base64url');

    let reserved = await reserveKey(db, scope, key, hash);
    if (!reserved) {
      const earlier = await findRequest(db, scope, key);
      // A first request that never finished (its process died) is run again; what it moves is idempotent itself.
      if (earlier && earlier.status === null && Date.now() - earlier.createdAt.getTime() > ABANDONED_MS) {
        await releaseKey(db, scope, key);
        reserved = await reserveKey(db, scope, key, hash);
      }
    }
    if (!reserved) {
      const first = await findRequest(db, scope, key);
      if (!first) throw new AppError('idempotency_busy', 'That request is being retried; try again.', 409);
      if (first.requestHash !== hash) {
        throw new AppError(
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different request; use a new key for a new request.',
          409,
        );
      }
      if (first.status === null) {
        throw new AppError(
          'idempotency_in_progress',
          'The first request with this key is still running.',
          409,
        );
      }
      c.header('Idempotent-Replayed', 'true');
      return c.json(first.body as object, first.status as 200);
    }

    await next();
    const status = c.res.status;
    if (status >= 500) await releaseKey(db, scope, key);
    else await saveResponse(db, scope, key, status, await c.res.clone().json());
  };
}

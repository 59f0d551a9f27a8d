import type { Db } from './client.ts';

/** How long the first response to an Idempotency-Key is kept for retries. */
export const IDEMPOTENCY_RETENTION_H = 24;

export interface StoredRequest {
  requestHash: string;
  /** Null while the first request still runs. */
  status: number | null;
  body: unknown;
  createdAt: Date;
}

/** Claims `key` for a request; false when the caller already used it (read it with `findRequest`). */
export async function reserveKey(db: Db, scope: string, key: string, requestHash: string): Promise<boolean> {
  const row = await db
    .insertInto('api_idempotency')
    .values({ scope, key, request_hash: requestHash })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return row !== undefined;
}

export async function findRequest(db: Db, scope: string, key: string): Promise<StoredRequest | undefined> {
  const row = await db
    .selectFrom('api_idempotency')
    .select(['request_hash', 'status', 'body', 'created_at'])
    .where('scope', '=', scope)
    .where('key', '=', key)
    .executeTakeFirst();
  return (
    row && { requestHash: row.request_hash, status: row.status, body: row.body, createdAt: row.created_at }
  );
}

export async function saveResponse(db: Db, scope: string, key: string, status: number, body: unknown) {
  await db
    .updateTable('api_idempotency')
    .set({ status, body: JSON.stringify(body) })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
}

/** Forgets a key whose request failed on our side, so a retry runs again. */
export async function releaseKey(db: Db, scope: string, key: string) {
  await db.deleteFrom('api_idempotency').where('scope', '=', scope).where('key', '=', key).execute();
}

/** Drops stored responses older than the retention window; returns how many. */
export async function pruneIdempotencyKeys(db: Db, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_RETENTION_H * 3600_000);
  const result = await db.deleteFrom('api_idempotency').where('created_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}

import { z } from 'zod';
import { AppError } from '../../economy/errors.ts';

export const MAX_PAGE = 100;

/** Query parameters of every list: an opaque `cursor` from the previous page's `nextCursor`, and a `limit`. */
export const pageQuery = z.object({
  cursor: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(25),
});

/** A page of a list: `nextCursor` is null on the last page. */
export const pageSchema = <S extends z.ZodType>(item: S) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/**
 * Lists are ordered by id, newest first, and paged by keyset: the cursor carries the last id seen, so a page
 * costs one index range read however deep it is, and rows added meanwhile never shift a page.
 */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9]{1,19}$/.test(id)) throw new AppError('invalid_cursor', 'That page cursor is not valid.', 400);
  return id;
}

/** Cuts a list fetched with `limit + 1` rows into the page and the next cursor. */
export function toPage<T>(
  rows: T[],
  limit: number,
  idOf: (row: T) => string,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last ? Buffer.from(idOf(last)).toString('base64url') : null,
  };
}

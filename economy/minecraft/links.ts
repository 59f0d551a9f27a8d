import { sql } from 'kysely';
import type { Db, Tx } from '../../db/client.ts';
import { auditAction } from '../audit.ts';
import { AppError } from '../errors.ts';
import { newLinkCode } from './codes.ts';

/** How long a link code works, and how many one user may ask for in a day. */
export const LINK_CODE_TTL_MS = 10 * 60_000;
export const LINK_CODES_PER_DAY = 5;
const DAY_MS = 86_400_000;

export interface LinkCode {
  code: string;
  expiresAt: Date;
}

/**
 * A new single-use link code for `userId`, valid for 10 minutes; earlier unused codes stop working. At most
 * five a day per user (the last 24 hours): the user's row is locked, so concurrent requests cannot race past it.
 */
export async function createLinkCode(db: Db, userId: string, now: Date): Promise<LinkCode> {
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
    const { n } = await trx
      .selectFrom('minecraft_link_codes')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('created_at', '>', new Date(now.getTime() - DAY_MS))
      .executeTakeFirstOrThrow();
    if (Number(n) >= LINK_CODES_PER_DAY) {
      throw new AppError(
        'link_code_limit',
        `You asked for ${LINK_CODES_PER_DAY} link codes in the last 24 hours; try again tomorrow.`,
        429,
      );
    }
    await trx
      .updateTable('minecraft_link_codes')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .execute();
    const expiresAt = new Date(now.getTime() + LINK_CODE_TTL_MS);
    // 40 random bits: a collision with a stored code is rare enough to answer with a retry of the insert.
    for (;;) {
      const code = newLinkCode();
      const row = await trx
        .insertInto('minecraft_link_codes')
        .values({ code, user_id: userId, created_at: now, expires_at: expiresAt })
        .onConflict((oc) => oc.column('code').doNothing())
        .returning('code')
        .executeTakeFirst();
      if (row) return { code, expiresAt };
    }
  });
}

export interface Linked {
  userId: string;
  discordId: string;
  name: string;
  /** True when the account was already linked to this player (nothing changed but the name). */
  unchanged: boolean;
}

const invalidCode = () =>
  new AppError(
    'invalid_link_code',
    'That link code is unknown, used or expired. Run /link in Discord for a new one.',
    404,
  );

/**
 * Redeems a link code for a Minecraft player inside the caller's transaction: the code's user is linked to
 * the player one to one. A player linked to another user moves to this one and a user linked to another
 * player is relinked; every change is audited with the links before and after.
 */
export async function linkAccount(
  trx: Tx,
  input: { code: string; uuid: string; name: string },
  now: Date,
): Promise<Linked> {
  const code = await trx
    .selectFrom('minecraft_link_codes')
    .select(['user_id', 'used_at', 'revoked_at', 'expires_at'])
    .where('code', '=', input.code)
    .forUpdate()
    .executeTakeFirst();
  if (!code || code.used_at || code.revoked_at || code.expires_at <= now) throw invalidCode();
  const userId = String(code.user_id);
  const rows = await trx
    .selectFrom('users')
    .select(['id', 'discord_id', 'minecraft_uuid', 'minecraft_name'])
    .where((eb) => eb.or([eb('id', '=', userId), eb('minecraft_uuid', '=', input.uuid)]))
    .orderBy('id')
    .forUpdate()
    .execute();
  const user = rows.find((r) => String(r.id) === userId)!;
  const holder = rows.find((r) => r.minecraft_uuid === input.uuid && String(r.id) !== userId);
  await trx
    .updateTable('minecraft_link_codes')
    .set({ used_at: now })
    .where('code', '=', input.code)
    .execute();

  const unchanged = user.minecraft_uuid === input.uuid;
  if (holder) {
    await trx
      .updateTable('users')
      .set({ minecraft_uuid: null, minecraft_name: null, minecraft_linked_at: null, updated_at: now })
      .where('id', '=', holder.id)
      .execute();
  }
  await trx
    .updateTable('users')
    .set({
      minecraft_uuid: input.uuid,
      minecraft_name: input.name,
      ...(unchanged ? {} : { minecraft_linked_at: now }),
      updated_at: now,
    })
    .where('id', '=', userId)
    .execute();
  if (!unchanged) {
    await auditAction(
      trx,
      { kind: 'member', userId, role: null, source: 'system', requestId: `minecraft-link:${input.code}` },
      {
        action: user.minecraft_uuid || holder ? 'minecraft.relink' : 'minecraft.link',
        target: { type: 'user', id: userId },
        before: {
          uuid: user.minecraft_uuid,
          name: user.minecraft_name,
          ...(holder ? { playerWasLinkedTo: String(holder.id) } : {}),
        },
        after: { uuid: input.uuid, name: input.name },
        reason: null,
      },
    );
  }
  return { userId, discordId: user.discord_id, name: input.name, unchanged };
}

/** Removes a user's link, audited; returns the name that was linked, or null when none was. */
export async function unlinkAccount(db: Db, userId: string, now: Date): Promise<string | null> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ uuid: string; name: string | null }>`
      update users u set minecraft_uuid = null, minecraft_name = null, minecraft_linked_at = null, updated_at = ${now}
      from (select id, minecraft_uuid as uuid, minecraft_name as name from users where id = ${userId} for update) old
      where u.id = old.id and old.uuid is not null
      returning old.uuid, old.name`.execute(trx);
    const old = rows[0];
    if (!old) return null;
    await auditAction(
      trx,
      { kind: 'member', userId, role: null, source: 'discord', requestId: `minecraft-unlink:${userId}` },
      {
        action: 'minecraft.unlink',
        target: { type: 'user', id: userId },
        before: { uuid: old.uuid, name: old.name },
        after: null,
        reason: null,
      },
    );
    return old.name;
  });
}

/** The user linked to a Minecraft player, if any. */
export async function userForPlayer(db: Db | Tx, uuid: string) {
  return db
    .selectFrom('users')
    .select(['id', 'discord_id', 'frozen', 'minecraft_name'])
    .where('minecraft_uuid', '=', uuid)
    .executeTakeFirst();
}

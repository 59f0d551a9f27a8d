import { sql } from 'kysely';
import type { Db } from '../db/client.ts';
import { coalescePer } from '../db/coalesce.ts';
import { AppError } from './errors.ts';

/** What a Discord interaction tells us about its user. */
export interface DiscordProfile {
  discordId: string;
  username: string;
  globalName: string | null;
  avatar: string | null;
}

export interface UserRow {
  id: string;
  discordId: string;
  username: string;
  globalName: string | null;
  avatar: string | null;
  frozen: boolean;
  frozenReason: string | null;
  /** The linked Minecraft player's name, or null. */
  minecraftName: string | null;
}

const SNOWFLAKE = /^[0-9]{15,21}$/;

const columns = [
  'id',
  'discord_id',
  'username',
  'global_name',
  'avatar',
  'frozen',
  'frozen_reason',
  'minecraft_name',
] as const;

interface Selected {
  id: string;
  discord_id: string;
  username: string;
  global_name: string | null;
  avatar: string | null;
  frozen: boolean;
  frozen_reason: string | null;
  minecraft_name: string | null;
}

const toUser = (r: Selected): UserRow => ({
  id: r.id,
  discordId: r.discord_id,
  username: r.username,
  globalName: r.global_name,
  avatar: r.avatar,
  frozen: r.frozen,
  frozenReason: r.frozen_reason,
  minecraftName: r.minecraft_name,
});

const sameProfile = (u: UserRow, p: DiscordProfile) =>
  u.username === p.username && u.globalName === p.globalName && u.avatar === p.avatar;

function checkProfile(p: DiscordProfile): void {
  if (!SNOWFLAKE.test(p.discordId))
    throw new AppError('invalid_discord_id', 'That is not a Discord user id.');
  if (p.username.length === 0) throw new AppError('invalid_profile', 'A Discord user always has a username.');
}

/** The lookups of one event-loop turn in one query: every interaction starts with one. */
const findByDiscordIds = coalescePer(async (db: Db, discordIds: string[]) => {
  const rows = await db
    .selectFrom('users')
    .select(columns)
    .where(sql<boolean>`discord_id = any(${[...new Set(discordIds)]}::text[])`)
    .execute();
  const byId = new Map(rows.map((r) => [r.discord_id, toUser(r)]));
  return discordIds.map((id) => byId.get(id));
});

/**
 * Users and their wallets, the first interactions of one event-loop turn in one statement: a user and their
 * wallet both exist or neither does. A profile whose Discord id exists already (or twice in the batch) gets
 * undefined and is looked up again.
 */
const createUsers = coalescePer(async (db: Db, profiles: DiscordProfile[]) => {
  const { rows } = await sql<Selected>`
    with created as (
      insert into users (discord_id, username, global_name, avatar)
      select * from unnest(${profiles.map((p) => p.discordId)}::text[], ${profiles.map((p) => p.username)}::text[],
                           ${profiles.map((p) => p.globalName)}::text[], ${profiles.map((p) => p.avatar)}::text[])
      on conflict (discord_id) do nothing
      returning id, discord_id, username, global_name, avatar, frozen, frozen_reason, minecraft_name
    ), wallet as (
      insert into accounts (id, kind) select id, 'user' from created
    )
    select * from created`.execute(db);
  const byId = new Map(rows.map((r) => [r.discord_id, toUser(r)]));
  return profiles.map((p) => {
    const user = byId.get(p.discordId);
    byId.delete(p.discordId);
    return user;
  });
});

export async function findUserByDiscordId(db: Db, discordId: string): Promise<UserRow | undefined> {
  if (!SNOWFLAKE.test(discordId)) return undefined;
  return findByDiscordIds(db, discordId);
}

/**
 * Returns the user for a Discord profile, creating the user and their wallet on first sight and refreshing
 * the names and avatar when Discord reports new ones. An unchanged profile costs one indexed read.
 */
export async function upsertDiscordUser(db: Db, profile: DiscordProfile): Promise<UserRow> {
  checkProfile(profile);
  // Two rounds at most: a concurrent first interaction can create the user between our read and insert.
  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = await findUserByDiscordId(db, profile.discordId);
    if (existing && sameProfile(existing, profile)) return existing;
    if (existing) {
      // Only rows that still differ are written, so concurrent refreshes with the same profile write once.
      const { rows: updated } = await sql<Selected>`
        update users
        set username = ${profile.username}, global_name = ${profile.globalName}, avatar = ${profile.avatar},
            updated_at = now()
        where id = ${existing.id}
          and (username, global_name, avatar) is distinct from
              (${profile.username}, ${profile.globalName}, ${profile.avatar})
        returning id, discord_id, username, global_name, avatar, frozen, frozen_reason, minecraft_name`.execute(
        db,
      );
      // Nothing updated: a concurrent refresh already wrote this same profile.
      return updated[0]
        ? toUser(updated[0])
        : { ...existing, username: profile.username, globalName: profile.globalName, avatar: profile.avatar };
    }
    const created = await createUsers(db, profile);
    if (created) return created;
  }
  throw new AppError('busy', 'Could not save your Discord profile; try again.', 503);
}

import { sql } from 'kysely';
import type { Db, Tx } from '../db/client.ts';

/** Where Coinhub lives in a guild: the channels /setup made and the persistent hub message. */
export interface GuildLayoutIds {
  hubChannelId: string | null;
  shopChannelId: string | null;
  leaderboardChannelId: string | null;
  txChannelId: string | null;
  hubMessageId: string | null;
}

export interface GuildSettings extends GuildLayoutIds {
  guildId: string;
  roleMap: Record<string, string[]>;
}

export async function getGuildSettings(db: Db | Tx, guildId: string): Promise<GuildSettings | undefined> {
  const row = await db
    .selectFrom('guild_settings')
    .selectAll()
    .where('guild_id', '=', guildId)
    .executeTakeFirst();
  return (
    row && {
      guildId: row.guild_id,
      hubChannelId: row.hub_channel_id,
      shopChannelId: row.shop_channel_id,
      leaderboardChannelId: row.leaderboard_channel_id,
      txChannelId: row.tx_channel_id,
      hubMessageId: row.hub_message_id,
      roleMap: row.role_map,
    }
  );
}

/** A channel /setup creates, named by its guild_settings column. */
export type GuildChannelColumn =
  'hub_channel_id' | 'shop_channel_id' | 'leaderboard_channel_id' | 'tx_channel_id';

/** The `column` channel /setup created: in `guildId` when given, else in the guild that set one up last. */
export async function guildChannel(
  db: Db | Tx,
  column: GuildChannelColumn,
  guildId: string | undefined,
): Promise<string | null> {
  let q = db
    .selectFrom('guild_settings')
    .select((eb) => eb.ref(column).as('channel_id'))
    .where(column, 'is not', null);
  if (guildId) q = q.where('guild_id', '=', guildId);
  const row = await q.orderBy('updated_at', 'desc').limit(1).executeTakeFirst();
  return row?.channel_id ?? null;
}

/** Stores the channel and hub message ids, creating the guild's settings row on first use. */
export async function saveGuildLayout(db: Db | Tx, guildId: string, ids: GuildLayoutIds): Promise<void> {
  const values = {
    hub_channel_id: ids.hubChannelId,
    shop_channel_id: ids.shopChannelId,
    leaderboard_channel_id: ids.leaderboardChannelId,
    tx_channel_id: ids.txChannelId,
    hub_message_id: ids.hubMessageId,
  };
  await db
    .insertInto('guild_settings')
    .values({ guild_id: guildId, ...values })
    .onConflict((oc) => oc.column('guild_id').doUpdateSet({ ...values, updated_at: sql<Date>`now()` }))
    .execute();
}

/**
 * Runs `fn` in a transaction holding the guild's layout lock (a transaction-scoped advisory lock), so two
 * /setup runs for one guild, from any worker, never interleave and create channels twice. Not retried like
 * `transact`: `fn` calls Discord, which a rerun would repeat, and its one write (the layout upsert, under
 * the lock) cannot deadlock.
 */
export async function withGuildLayoutLock<T>(
  db: Db,
  guildId: string,
  fn: (trx: Tx) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`guild-layout:${guildId}`}, 0))`.execute(trx);
    return fn(trx);
  });
}

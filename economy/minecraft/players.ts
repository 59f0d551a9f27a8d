import { sql } from 'kysely';
import type { Tx } from '../../db/client.ts';
import { wakeWaitingVouchers } from './vouchers.ts';

export interface PlayerEvent {
  uuid: string;
  name: string;
  server: string;
}

async function recordPresence(trx: Tx, p: PlayerEvent, online: boolean, now: Date): Promise<void> {
  await sql`
    insert into minecraft_players (player_uuid, name, online, server, last_seen_at)
    values (${p.uuid}, ${p.name}, ${online}, ${p.server}, ${now})
    on conflict (player_uuid) do update
      set name = excluded.name, online = excluded.online, server = excluded.server,
          last_seen_at = excluded.last_seen_at`.execute(trx);
  // A linked player who renamed their Minecraft account shows the new name on their card.
  await trx
    .updateTable('users')
    .set({ minecraft_name: p.name, updated_at: now })
    .where('minecraft_uuid', '=', p.uuid)
    .where('minecraft_name', 'is distinct from', p.name)
    .execute();
}

/** `player.join`: the player is online; deliveries that waited for them are queued again (their ids). */
export async function playerJoined(trx: Tx, p: PlayerEvent, now: Date): Promise<string[]> {
  await recordPresence(trx, p, true, now);
  return wakeWaitingVouchers(trx, p.uuid, now);
}

/** `player.quit`: the player is offline. */
export async function playerQuit(trx: Tx, p: PlayerEvent, now: Date): Promise<void> {
  await recordPresence(trx, p, false, now);
}

/** `quest.progress`: adds `increment` to the player's counter; returns the new value. */
export async function addQuestProgress(
  trx: Tx,
  input: { uuid: string; counter: string; increment: number },
  now: Date,
): Promise<number> {
  const { rows } = await sql<{ value: string }>`
    insert into minecraft_quest_counters (player_uuid, counter, value, updated_at)
    values (${input.uuid}, ${input.counter}, ${input.increment}, ${now})
    on conflict (player_uuid, counter) do update
      set value = minecraft_quest_counters.value + excluded.value, updated_at = excluded.updated_at
    returning value`.execute(trx);
  return Number(rows[0]!.value);
}

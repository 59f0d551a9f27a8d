import { sql, type Kysely } from 'kysely';

/**
 * The transaction feed's relay state. `transfers` is the outbox; each consumer of it (the Redis live stream,
 * the Discord poster) keeps a cursor here. `gap_*` remembers the snapshot taken when the consumer first saw a
 * missing id below a visible one; `plan_*` is the batch the Discord poster is about to send, written before
 * the send so that a restart resends exactly the same batch with the same nonce. `feed_messages` maps every
 * posted Discord message to the transfer ids it covers, so actions on the feed can edit it later.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table feed_cursors (
      consumer text primary key check (consumer in ('redis', 'discord')),
      last_id bigint not null check (last_id >= 0),
      gap_horizon bigint,
      gap_xmax bigint,
      gap_seen_at timestamptz,
      plan_first bigint,
      plan_last bigint,
      plan_mode text check (plan_mode in ('embeds', 'lines')),
      updated_at timestamptz not null default now(),
      check ((gap_horizon is null) = (gap_xmax is null) and (gap_xmax is null) = (gap_seen_at is null)),
      check ((plan_first is null) = (plan_last is null) and (plan_last is null) = (plan_mode is null)),
      check (plan_first is null or (plan_first > last_id and plan_last >= plan_first))
    )`.execute(db);

  await sql`
    create table feed_messages (
      id bigint generated always as identity primary key,
      channel_id text not null,
      message_id text not null unique,
      first_transfer_id bigint not null,
      last_transfer_id bigint not null,
      mode text not null check (mode in ('embeds', 'lines')),
      nonce text not null,
      posted_at timestamptz not null default now(),
      check (first_transfer_id <= last_transfer_id)
    )`.execute(db);
  await sql`create index feed_messages_covering on feed_messages (last_transfer_id, first_transfer_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('feed_messages').execute();
  await db.schema.dropTable('feed_cursors').execute();
}

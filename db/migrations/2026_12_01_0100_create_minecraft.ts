import { sql, type Kysely } from 'kysely';

/**
 * The Minecraft integration: webhook events seen (deduplicated by `webhook-id`, with the first answer), link
 * codes, reward totals per player and day, quest counters, players' presence, and vouchers for bought
 * `minecraft_item` orders with their delivery state.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table minecraft_events (
      webhook_id text primary key check (length(webhook_id) between 1 and 200),
      type text not null,
      server text not null,
      status integer not null,
      answer jsonb not null,
      received_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index minecraft_events_received on minecraft_events (received_at)`.execute(db);

  await sql`
    create table minecraft_link_codes (
      code text primary key check (code ~ '^[A-Z2-9]{8}$'),
      user_id bigint not null references users (id),
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
  await sql`create index minecraft_link_codes_user on minecraft_link_codes (user_id, created_at desc)`.execute(
    db,
  );

  await sql`
    create table minecraft_reward_days (
      player_uuid uuid not null,
      day date not null,
      granted bigint not null check (granted >= 0),
      primary key (player_uuid, day)
    )`.execute(db);

  await sql`
    create table minecraft_quest_counters (
      player_uuid uuid not null,
      counter text not null check (counter ~ '^[a-z0-9_.:-]{1,64}$'),
      value bigint not null,
      updated_at timestamptz not null,
      primary key (player_uuid, counter)
    )`.execute(db);

  await sql`
    create table minecraft_players (
      player_uuid uuid primary key,
      name text not null check (name ~ '^[A-Za-z0-9_]{3,16}$'),
      online boolean not null,
      server text not null,
      last_seen_at timestamptz not null
    )`.execute(db);

  await sql`
    create table minecraft_vouchers (
      id bigint generated always as identity primary key,
      order_id bigint not null unique references orders (id),
      code text not null unique check (code ~ '^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$'),
      buyer_id bigint not null references users (id),
      catalog_item_id bigint not null references catalog_items (id),
      quantity integer not null check (quantity > 0),
      state text not null default 'issued'
        check (state in ('issued', 'queued', 'waiting', 'sending', 'delivered', 'failed')),
      expires_at timestamptz not null,
      redeemed_at timestamptz,
      player_uuid uuid,
      player_name text,
      attempts integer not null default 0,
      last_error text check (length(last_error) <= 500),
      sending_at timestamptz,
      delivered_at timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      check (state = 'issued' or (redeemed_at is not null and player_uuid is not null))
    )`.execute(db);
  await sql`create index minecraft_vouchers_open on minecraft_vouchers (state, id) where state <> 'delivered'`.execute(
    db,
  );
  await sql`create index minecraft_vouchers_waiting on minecraft_vouchers (player_uuid) where state = 'waiting'`.execute(
    db,
  );
  await sql`create index minecraft_vouchers_buyer on minecraft_vouchers (buyer_id, id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'minecraft_vouchers',
    'minecraft_players',
    'minecraft_quest_counters',
    'minecraft_reward_days',
    'minecraft_link_codes',
    'minecraft_events',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}

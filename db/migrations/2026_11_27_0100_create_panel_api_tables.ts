import { sql, type Kysely } from 'kysely';

/**
 * What the panel API keeps:
 * - `economy_settings`: values saved from the panel, one row per setting, overriding the environment's default.
 * - `api_idempotency`: the first response to each `Idempotency-Key` of a caller, so a retry gets it again.
 * - `stats_*`: the dashboard's rollups, maintained by the worker from the transfers the feed relay has passed
 *   (`stats_cursor`), so the dashboard never scans `transfers`. Days are UTC dates.
 * - a trigram index on user names for the panel's user search.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table economy_settings (
      key text primary key,
      value jsonb not null,
      updated_at timestamptz not null default now(),
      updated_by bigint references users (id)
    )`.execute(db);

  await sql`
    create table api_idempotency (
      scope text not null,
      key text not null,
      request_hash text not null,
      status int,
      body jsonb,
      created_at timestamptz not null default now(),
      primary key (scope, key)
    )`.execute(db);
  await sql`create index api_idempotency_age on api_idempotency (created_at)`.execute(db);

  await sql`
    create table stats_cursor (
      id int primary key default 1 check (id = 1),
      last_id bigint not null default 0
    )`.execute(db);
  await sql`insert into stats_cursor (id, last_id) values (1, 0)`.execute(db);
  await sql`
    create table stats_daily (
      day date primary key,
      transfers bigint not null default 0,
      minted bigint not null default 0,
      burned bigint not null default 0,
      fees bigint not null default 0,
      market_volume bigint not null default 0,
      market_sales bigint not null default 0,
      active_users int not null default 0,
      net_mint bigint not null default 0,
      net_escrow bigint not null default 0,
      net_fees bigint not null default 0,
      net_burn bigint not null default 0
    )`.execute(db);
  await sql`
    create table stats_active_users (
      day date not null,
      user_id bigint not null,
      primary key (day, user_id)
    )`.execute(db);
  await sql`
    create table stats_items_daily (
      day date not null,
      item_key text not null,
      name text not null,
      units bigint not null default 0,
      volume bigint not null default 0,
      primary key (day, item_key)
    )`.execute(db);

  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`
    create index users_name_search on users
    using gin ((lower(username) || ' ' || lower(coalesce(global_name, ''))) gin_trgm_ops)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index users_name_search`.execute(db);
  for (const table of [
    'stats_items_daily',
    'stats_active_users',
    'stats_daily',
    'stats_cursor',
    'api_idempotency',
    'economy_settings',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}

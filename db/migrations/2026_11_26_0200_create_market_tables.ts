import { sql, type Kysely } from 'kysely';

/**
 * The marketplace: catalog items, listings, orders (whose coins sit in a ledger hold), completed sales for the
 * price rollup, and the reference price per catalog item. State machines are enforced by check constraints
 * here and by conditional updates in economy/market.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table catalog_items (
      id bigint generated always as identity primary key,
      name text not null check (length(name) between 1 and 100),
      kind text not null check (kind in ('discord_role', 'minecraft_item', 'other')),
      description text check (length(description) <= 1000),
      role_id text check (role_id ~ '^[0-9]{15,21}$'),
      minecraft_item text check (length(minecraft_item) between 1 and 200),
      minecraft_command text check (length(minecraft_command) between 1 and 500),
      base_price bigint not null check (base_price > 0),
      active boolean not null default true,
      created_by bigint references users (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (kind <> 'discord_role' or role_id is not null),
      check (kind <> 'minecraft_item' or (minecraft_item is not null and minecraft_command is not null))
    )`.execute(db);
  await sql`create unique index catalog_items_name on catalog_items (lower(name))`.execute(db);

  await sql`
    create table listings (
      id bigint generated always as identity primary key,
      seller_id bigint references users (id),
      official boolean not null default false,
      created_by bigint references users (id),
      catalog_item_id bigint references catalog_items (id),
      title text not null check (length(title) between 1 and 100),
      description text check (length(description) <= 1000),
      unit_price bigint not null check (unit_price > 0),
      quantity_total integer not null check (quantity_total > 0),
      quantity_left integer not null check (quantity_left >= 0 and quantity_left <= quantity_total),
      state text not null default 'active'
        check (state in ('active', 'paused', 'sold_out', 'cancelled', 'removed')),
      guard_override boolean not null default false,
      guard_override_reason text,
      guard_override_by bigint references users (id),
      shop_channel_id text,
      shop_message_id text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      ended_at timestamptz,
      check (official = (seller_id is null)),
      check (state <> 'sold_out' or quantity_left = 0),
      check (state <> 'active' or quantity_left > 0),
      check (not guard_override or (guard_override_reason is not null and guard_override_by is not null))
    )`.execute(db);
  await sql`create index listings_active_newest on listings (id desc) where state = 'active'`.execute(db);
  await sql`create index listings_active_price on listings (unit_price, id) where state = 'active'`.execute(
    db,
  );
  await sql`create index listings_seller_open on listings (seller_id) where state in ('active', 'paused')`.execute(
    db,
  );
  await sql`create index listings_catalog_item on listings (catalog_item_id) where catalog_item_id is not null`.execute(
    db,
  );

  await sql`
    create table orders (
      id bigint generated always as identity primary key,
      idempotency_key text not null unique check (length(idempotency_key) between 1 and 200),
      listing_id bigint not null references listings (id),
      buyer_id bigint not null references users (id),
      seller_id bigint references users (id),
      quantity integer not null check (quantity > 0),
      unit_price bigint not null check (unit_price > 0),
      total bigint not null,
      fee bigint not null check (fee >= 0 and fee < total),
      hold_transfer_id bigint not null unique references transfers (id),
      settle_transfer_id bigint references transfers (id),
      refund_transfer_id bigint references transfers (id),
      state text not null default 'pending'
        check (state in ('pending', 'delivered', 'completed', 'refunded', 'disputed')),
      expires_at timestamptz not null,
      delivered_at timestamptz,
      confirm_deadline timestamptz,
      completed_at timestamptz,
      refunded_at timestamptz,
      refund_reason text
        check (refund_reason in ('seller_cancelled', 'buyer_cancelled', 'admin_refund', 'escrow_expired')),
      disputed_at timestamptz,
      dispute_reason text check (length(dispute_reason) <= 1000),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (total = quantity * unit_price),
      check (buyer_id is distinct from seller_id),
      check (state not in ('delivered', 'disputed') or confirm_deadline is not null),
      check (state <> 'completed' or (completed_at is not null and settle_transfer_id is not null)),
      check (state <> 'refunded' or (refunded_at is not null and refund_reason is not null
        and refund_transfer_id is not null))
    )`.execute(db);
  await sql`create index orders_escrow_due on orders (expires_at) where state = 'pending'`.execute(db);
  await sql`create index orders_confirm_due on orders (confirm_deadline) where state = 'delivered'`.execute(
    db,
  );
  await sql`create index orders_buyer on orders (buyer_id, id desc)`.execute(db);
  await sql`create index orders_seller on orders (seller_id, id desc)`.execute(db);
  await sql`create index orders_listing on orders (listing_id, id desc)`.execute(db);
  await sql`create index orders_open_by_state on orders (state, id desc) where state in ('pending', 'delivered', 'disputed')`.execute(
    db,
  );

  // One row per completed sale of a catalog item; rows with rolled_up = false are the rollup's backlog.
  await sql`
    create table price_sales (
      id bigint generated always as identity primary key,
      catalog_item_id bigint not null references catalog_items (id),
      order_id bigint not null unique references orders (id),
      unit_price bigint not null check (unit_price > 0),
      completed_at timestamptz not null,
      voided boolean not null default false,
      rolled_up boolean not null default false
    )`.execute(db);
  await sql`create index price_sales_backlog on price_sales (id) where not rolled_up`.execute(db);
  await sql`create index price_sales_recent on price_sales (catalog_item_id, completed_at desc) where not voided`.execute(
    db,
  );

  await sql`
    create table price_refs (
      catalog_item_id bigint primary key references catalog_items (id),
      reference_price bigint check (reference_price > 0),
      sales_count integer not null,
      oldest_sale_at timestamptz,
      computed_at timestamptz not null
    )`.execute(db);
  await sql`create index price_refs_oldest on price_refs (oldest_sale_at) where oldest_sale_at is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['price_refs', 'price_sales', 'orders', 'listings', 'catalog_items']) {
    await db.schema.dropTable(table).execute();
  }
}

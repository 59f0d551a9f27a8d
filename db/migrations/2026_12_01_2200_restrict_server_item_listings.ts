import { sql, type Kysely } from 'kysely';

/**
 * Only official listings may sell catalog items that grant something on the server (`discord_role`,
 * `minecraft_item`): a player reselling a role would mint privileges. Triggers refuse a player listing of such
 * an item and turning an item players list into such an item; player listings of them that already exist are
 * taken down. Orders get the refund reason `restricted_item` for what the role-grant job refuses.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function listings_restricted_items() returns trigger language plpgsql as $fn$
    begin
      if not new.official and new.catalog_item_id is not null and exists (
        select 1 from catalog_items c
        where c.id = new.catalog_item_id and c.kind in ('discord_role', 'minecraft_item')
      ) then
        raise exception 'only official listings may sell catalog item %', new.catalog_item_id
          using errcode = 'check_violation', constraint = 'listings_restricted_item';
      end if;
      return new;
    end
    $fn$`.execute(db);
  await sql`
    create trigger listings_restricted_items
    before insert or update of catalog_item_id, official on listings
    for each row execute function listings_restricted_items()`.execute(db);

  await sql`
    create function catalog_items_restricted_kind() returns trigger language plpgsql as $fn$
    begin
      if new.kind in ('discord_role', 'minecraft_item') and exists (
        select 1 from listings l where l.catalog_item_id = new.id and not l.official
      ) then
        raise exception 'catalog item % has player listings', new.id
          using errcode = 'check_violation', constraint = 'listings_restricted_item';
      end if;
      return new;
    end
    $fn$`.execute(db);
  await sql`
    create trigger catalog_items_restricted_kind
    before update of kind on catalog_items
    for each row when (old.kind is distinct from new.kind)
    execute function catalog_items_restricted_kind()`.execute(db);

  await sql`
    update listings l set state = 'removed', ended_at = now(), updated_at = now()
    from catalog_items c
    where c.id = l.catalog_item_id and c.kind in ('discord_role', 'minecraft_item')
      and not l.official and l.state in ('active', 'paused', 'sold_out')`.execute(db);

  await sql`alter table orders drop constraint orders_refund_reason_check`.execute(db);
  await sql`
    alter table orders add constraint orders_refund_reason_check
    check (refund_reason in ('seller_cancelled', 'buyer_cancelled', 'admin_refund', 'escrow_expired',
                             'restricted_item'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table orders drop constraint orders_refund_reason_check`.execute(db);
  await sql`
    alter table orders add constraint orders_refund_reason_check
    check (refund_reason in ('seller_cancelled', 'buyer_cancelled', 'admin_refund', 'escrow_expired'))`.execute(
    db,
  );
  await sql`drop trigger catalog_items_restricted_kind on catalog_items`.execute(db);
  await sql`drop function catalog_items_restricted_kind()`.execute(db);
  await sql`drop trigger listings_restricted_items on listings`.execute(db);
  await sql`drop function listings_restricted_items()`.execute(db);
}

import { sql, type Kysely } from 'kysely';

/** Orders get the refund reason `delivery_failed`: a Minecraft item the server refused to deliver. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table orders drop constraint orders_refund_reason_check`.execute(db);
  await sql`
    alter table orders add constraint orders_refund_reason_check
    check (refund_reason in ('seller_cancelled', 'buyer_cancelled', 'admin_refund', 'escrow_expired',
                             'restricted_item', 'delivery_failed'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table orders drop constraint orders_refund_reason_check`.execute(db);
  await sql`
    alter table orders add constraint orders_refund_reason_check
    check (refund_reason in ('seller_cancelled', 'buyer_cancelled', 'admin_refund', 'escrow_expired',
                             'restricted_item'))`.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * `orders.role_granted_at`: when the role-grant job of a `discord_role` order was cleared to add the role (set
 * before the REST call, only while the order is not refunded). A refunded order with it set may hold the role,
 * so the role is taken back; one without it never got the role.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table orders add column role_granted_at timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table orders drop column role_granted_at`.execute(db);
}

import { sql, type Kysely } from 'kysely';

/** Quests the hub lists while they run; the quests issue adds progress and completion on top. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table quests (
      id bigint generated always as identity primary key,
      title text not null check (length(title) between 1 and 100),
      description text not null default '' check (length(description) <= 1000),
      reward bigint not null check (reward >= 0),
      active boolean not null default true,
      starts_at timestamptz not null default now(),
      ends_at timestamptz,
      created_at timestamptz not null default now(),
      check (ends_at is null or ends_at > starts_at)
    )`.execute(db);
  await sql`create index quests_active on quests (starts_at) where active`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('quests').execute();
}

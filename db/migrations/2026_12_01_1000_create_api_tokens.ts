import { sql, type Kysely } from 'kysely';

/**
 * `api_tokens`: the panel's API tokens for scripts. The token itself is a JWT that names its row; the row is what
 * revocation and expiry are checked against on every request, so a revoked token stops working at once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table api_tokens (
      id uuid primary key default gen_random_uuid(),
      user_id bigint not null references users(id),
      name text not null check (char_length(name) between 1 and 100),
      scope text not null check (scope in ('read', 'write')),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null check (expires_at > created_at),
      revoked_at timestamptz,
      revoked_by bigint references users(id)
    )`.execute(db);
  await sql`create index api_tokens_user_idx on api_tokens (user_id, created_at desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table api_tokens`.execute(db);
}

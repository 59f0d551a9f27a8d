import { sql, type Kysely } from 'kysely';

/**
 * wallet_summary(user, limit): the data of "My Card" in one call. It runs on every My Card click; as a plpgsql
 * function its plan is cached per connection instead of being planned again for every request.
 * The recent transfers come from two index scans, each stopped after `limit` rows (the wallet's newest debits
 * and newest credits), so the cost does not grow with history. A payout from escrow names the buyer whose
 * hold it settles rather than escrow.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function wallet_summary(p_user bigint, p_limit integer)
    returns table (balance text, held text, current_streak integer, best_streak integer, recent json)
    language plpgsql stable
    set jit = off
    as $fn$
    begin
      return query
      with recent as (
        select * from (
          (select t.id, -1 as sign, t.amount, t.reason, t.memo, t.credit_account_id as other, t.pending_id,
                  t.created_at
           from transfers t where t.debit_account_id = p_user order by t.id desc limit p_limit)
          union all
          (select t.id, 1, t.amount, t.reason, t.memo, t.debit_account_id, t.pending_id, t.created_at
           from transfers t where t.credit_account_id = p_user order by t.id desc limit p_limit)
        ) both_sides order by id desc limit p_limit
      ), named as (
        select r.*,
               case when r.other = 2 and h.debit_account_id <> p_user then h.debit_account_id
                    else r.other end as party
        from recent r left join transfers h on h.id = r.pending_id
      )
      select a.balance::text,
             (select coalesce(sum(p.amount), 0) from transfers p
               where p.debit_account_id = a.id and p.state = 'pending')::text,
             s.current_streak, s.best_streak,
             (select coalesce(json_agg(json_build_object(
                       'id', n.id::text, 'sign', n.sign, 'amount', n.amount::text, 'reason', n.reason,
                       'memo', n.memo, 'other', n.party::text, 'at', n.created_at,
                       'discord_id', u.discord_id, 'name', coalesce(u.global_name, u.username))
                     order by n.id desc), '[]')
                from named n left join users u on u.id = n.party)
      from accounts a left join daily_streaks s on s.user_id = a.id
      where a.id = p_user and a.kind = 'user';
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function wallet_summary(bigint, integer)`.execute(db);
}

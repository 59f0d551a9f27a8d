import { sql, type Kysely } from 'kysely';

/**
 * ledger_apply rewritten; the contract of 2026_11_26_0002 (codes, batch rules, results) is unchanged.
 * - The locks are taken first, in their own statements (holds and reversed transfers by id, then user wallets
 *   by id), and the batch is one statement that starts after them, so its snapshot sees the latest committed
 *   balances and hold states. Reading balances from locking CTEs inside the batch statement, as 0002 did, can
 *   return a version older than the one locked when batches contend.
 * - Every lookup of a row by key is a lateral subquery with a limit, and the updates are bounded by
 *   `id = any(array(...))`, so the plan is an index lookup per operation whatever the statistics say. The
 *   function's generic plan is made once per connection: made while `transfers` looked small (a new database,
 *   or no autovacuum to refresh its statistics), plain joins became a full scan of the pending holds for every
 *   post, which made a batch of 16 market settlements take 7 ms instead of 2 ms (found with auto_explain under
 *   scripts/bench-market.ts).
 * - `jit = off`: the disabled plan types inflate the estimated cost, which would otherwise make Postgres
 *   JIT-compile the statement on every call.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function ledger_apply(p_ops jsonb, p_now timestamptz)
    returns setof ledger_result
    language plpgsql
    -- A batch is a few rows looked up by key: always index lookups, one cached plan per session, whatever
    -- the estimates for jsonb_array_elements or stale statistics say. The disabled plan types inflate the
    -- estimated cost, which would otherwise make Postgres JIT-compile the statement on every call.
    set jit = off
    set enable_hashjoin = off
    set enable_mergejoin = off
    set enable_seqscan = off
    set plan_cache_mode = force_generic_plan
    as $fn$
    declare
      v_refs bigint[];
    begin
      select array_agg(x.id) into v_refs from (
        select t.id from transfers t
        where t.id = any(array(select (e->>'pending_id')::bigint from jsonb_array_elements(p_ops) e
                               union all select (e->>'reverses')::bigint from jsonb_array_elements(p_ops) e))
        order by t.id for update) x;
      perform 1 from accounts a
      where a.id = any(array(select (e->>'debit')::bigint from jsonb_array_elements(p_ops) e
                             union all select (e->>'credit')::bigint from jsonb_array_elements(p_ops) e
                             union all select t.debit_account_id from transfers t where t.id = any(v_refs)))
        and a.kind = 'user'
      order by a.id for update;

      return query
      with o as (
        select (j.ord - 1)::integer as idx, j.e,
               j.e->>'op' as op, j.e->>'key' as key,
               (j.e->>'debit')::bigint as debit, (j.e->>'credit')::bigint as credit,
               (j.e->>'amount')::bigint as amount, (j.e->>'pending_id')::bigint as pending_id,
               coalesce((j.e->>'fee')::bigint, 0) as fee, (j.e->>'reverses')::bigint as reverses,
               coalesce((j.e->>'force')::boolean, false) as force
        from jsonb_array_elements(p_ops) with ordinality as j(e, ord)
      ),
      m as (
        select o.*, ex.t as existing, (ex.t).id as existing_id,
               h.id as h_id, h.state as h_state, h.amount as h_amount, h.debit_account_id as h_debit,
               h.expires_at as h_expires,
               case when o.op in ('transfer', 'hold') then o.debit else 2 end as d_id,
               case o.op when 'transfer' then o.credit when 'hold' then 2 when 'post' then o.credit
                         else h.debit_account_id end as c_id,
               case o.op when 'post' then coalesce(o.amount, h.amount) when 'void' then h.amount
                         else o.amount end as gross
        from o
        left join lateral (select t from transfers t where t.idempotency_key = o.key limit 1) ex on true
        left join lateral (
          select t.id, t.state, t.amount, t.debit_account_id, t.expires_at from transfers t
          where t.id = o.pending_id and t.phase = 'pending' and o.op in ('post', 'void') limit 1) h on true
      ),
      c as (
        select m.*,
               da.kind as d_kind, da.balance as d_bal, coalesce(du.frozen, false) as d_frozen,
               ca.kind as c_kind, coalesce(cu.frozen, false) as c_frozen,
               (select x.amount - coalesce((select sum(r.amount) from transfers r where r.reverses_id = x.id), 0)
                  from transfers x
                 where x.id = m.reverses and x.state = 'posted' and x.phase <> 'pending') as reversible,
               exists (select 1 from m m2
                        where m2.idx < m.idx and m.d_id >= 1000
                          and (m2.c_id = m.d_id or (m2.op = 'post' and m2.h_debit = m.d_id))) as credited_earlier
        from m
        left join lateral (select a.kind, a.balance from accounts a where a.id = m.d_id limit 1) da on true
        left join lateral (select u.frozen from users u where u.id = m.d_id limit 1) du on true
        left join lateral (select a.kind from accounts a where a.id = m.c_id limit 1) ca on true
        left join lateral (select u.frozen from users u where u.id = m.c_id limit 1) cu on true
      ),
      r as (
        select c.*, case
          when c.existing_id is not null then 'replay_' || ledger_replay_code(c.existing, c.e, c.h_amount)
          when c.key is null or c.key = '' then 'invalid_key'
          when c.op not in ('transfer', 'hold', 'post', 'void') then 'invalid_op'
          when c.op in ('post', 'void') and c.h_id is null then 'unknown_transfer'
          when c.op in ('post', 'void') and c.h_state = 'posted' then 'already_posted'
          when c.op in ('post', 'void') and c.h_state = 'voided' then 'already_voided'
          when c.op = 'post' and c.h_expires <= p_now then 'expired'
          when c.gross is null or c.gross <= 0 then 'invalid_amount'
          when c.op = 'post' and c.gross > c.h_amount then 'exceeds_hold'
          when c.op = 'post' and (c.fee < 0 or c.fee >= c.gross) then 'invalid_fee'
          when c.op = 'hold' and c.e->>'expires_at' is null then 'invalid_expiry'
          when c.d_kind is null or c.c_kind is null then 'unknown_account'
          when c.d_id = c.c_id or (c.op = 'post' and c.c_id = c.h_debit) then 'same_account'
          when c.op = 'transfer' and 2 in (c.d_id, c.c_id) then 'escrow_reserved'
          when c.op <> 'void' and not c.force and (c.d_frozen or c.c_frozen) then 'frozen'
          when c.d_kind = 'user' and c.d_bal < c.gross then
            case when c.credited_earlier then 'defer' else 'insufficient_funds' end
          when c.reverses is not null and c.reversible is null then 'unknown_transfer'
          when c.reverses is not null and c.gross > c.reversible then 'exceeds_reversible'
          else 'ok' end as code
        from c
      ),
      deltas as (
        select idx, d_id as account, -gross as delta from r where code = 'ok' and d_id >= 1000
        union all
        select idx, c_id, gross - fee from r where code = 'ok' and c_id >= 1000
        union all
        select idx, h_debit, h_amount - gross from r where code = 'ok' and op = 'post' and h_amount > gross
      ),
      running as (
        select d.idx, d.account,
               a.balance + sum(d.delta) over (partition by d.account order by d.idx
                                              rows between unbounded preceding and current row) as after
        from deltas d
        cross join lateral (select x.balance from accounts x where x.id = d.account limit 1) a
      ),
      moved as (
        update accounts a set balance = a.balance + s.delta
        from (select account, sum(delta) as delta from deltas group by account) s
        where a.id = s.account and a.id = any(array(select account from deltas))
      ),
      ins as (
        insert into transfers (idempotency_key, debit_account_id, credit_account_id, amount, phase, state,
          pending_id, reverses_id, expires_at, reason, memo, ref, actor_id,
          debit_balance_after, credit_balance_after, created_at)
        select r.key, r.d_id, r.c_id, r.gross - r.fee,
               case r.op when 'transfer' then 'single' when 'hold' then 'pending' else r.op end,
               case r.op when 'hold' then 'pending' else 'posted' end,
               r.h_id, r.reverses,
               case when r.op = 'hold' then (r.e->>'expires_at')::timestamptz end,
               coalesce(r.e->>'reason', r.op), r.e->>'memo', r.e->'ref', (r.e->>'actor')::bigint,
               (select x.after from running x where x.idx = r.idx and x.account = r.d_id),
               (select x.after from running x where x.idx = r.idx and x.account = r.c_id),
               p_now
        from r where r.code = 'ok'
        order by r.idx
        on conflict (idempotency_key) do nothing
        returning id, idempotency_key, debit_balance_after, credit_balance_after
      ),
      side as (
        insert into transfers (idempotency_key, debit_account_id, credit_account_id, amount, phase, state,
          pending_id, reason, ref, actor_id, credit_balance_after, created_at)
        select r.key || ':fee', 2, coalesce((r.e->>'fee_account')::bigint, 3), r.fee, 'post', 'posted',
               r.h_id, 'fee', r.e->'ref', (r.e->>'actor')::bigint, null, p_now
        from r join ins on ins.idempotency_key = r.key
        where r.op = 'post' and r.fee > 0
        union all
        select r.key || ':rest', 2, r.h_debit, r.h_amount - r.gross, 'post', 'posted',
               r.h_id, 'partial_post_remainder', r.e->'ref', (r.e->>'actor')::bigint,
               (select x.after from running x where x.idx = r.idx and x.account = r.h_debit), p_now
        from r join ins on ins.idempotency_key = r.key
        where r.op = 'post' and r.h_amount > r.gross
      ),
      resolved as (
        update transfers t set state = case r.op when 'post' then 'posted' else 'voided' end, resolved_at = p_now
        from r
        where r.code = 'ok' and r.op in ('post', 'void') and t.id = r.h_id
          and t.id = any(array(select r2.h_id from r r2 where r2.code = 'ok' and r2.op in ('post', 'void')))
      )
      select r.idx,
             case when r.code = 'ok' and ins.id is null then ledger_raise_conflict()
                  when r.code = 'replay_ok' then 'ok'
                  when r.code = 'replay_key_reused' then 'key_reused'
                  else r.code end,
             coalesce(ins.id, r.existing_id),
             r.existing_id is not null,
             coalesce(ins.debit_balance_after, (r.existing).debit_balance_after),
             coalesce(ins.credit_balance_after, (r.existing).credit_balance_after)
      from r left join ins on ins.idempotency_key = r.key and r.existing_id is null
      order by r.idx;
    end
    $fn$`.execute(db);
}

/** Back to 2026_11_26_0002's function (its type and helpers are recreated with it). */
export async function down(db: Kysely<any>): Promise<void> {
  const { up: previous } = await import('./2026_11_26_0002_create_ledger_apply.ts');
  await sql`drop function ledger_apply(jsonb, timestamptz)`.execute(db);
  await sql`drop function ledger_replay_code(transfers, jsonb, bigint)`.execute(db);
  await sql`drop function ledger_raise_conflict()`.execute(db);
  await sql`drop type ledger_result`.execute(db);
  await previous(db);
}

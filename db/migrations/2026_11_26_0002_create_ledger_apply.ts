import { sql, type Kysely } from 'kysely';

/**
 * ledger_apply(ops, now) applies a batch of ledger operations in the caller's transaction and returns one
 * row per operation with a result code. Refusals write nothing and never abort the batch.
 *
 * The batch is processed set-based: a handful of statements whatever its size, so the per-statement cost is
 * shared by every operation in it. The caller (economy/ledger.ts) guarantees that within one batch no two
 * operations share an idempotency key, a debited user wallet, a hold or a reversed transfer, and that no
 * operation debits a wallet an earlier one credits explicitly; an operation whose wallet an earlier post or
 * void credits implicitly comes back as `defer` and goes in the next batch. Under those rules every
 * operation can be checked against the balances as locked at the start of the batch.
 *
 * Every hold and reversed transfer the batch refers to is locked first, in id order, then every user wallet it
 * touches, in id order, so concurrent batches cannot deadlock on them. System accounts (mint, escrow, fees, burn) are
 * never locked or updated: their balances are derived from the transfers, which keeps them from
 * serialising the economy.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create type ledger_result as (
      idx integer, code text, transfer_id bigint, replayed boolean, debit_balance bigint, credit_balance bigint)`.execute(
    db,
  );

  await sql`
    create function ledger_replay_code(t transfers, op jsonb, hold_amount bigint) returns text
    language sql immutable as $$
      select case when
        case op->>'op'
          when 'transfer' then t.phase = 'single'
            and t.debit_account_id = (op->>'debit')::bigint
            and t.credit_account_id = (op->>'credit')::bigint
            and t.amount = (op->>'amount')::bigint
            and t.reverses_id is not distinct from (op->>'reverses')::bigint
          when 'hold' then t.phase = 'pending'
            and t.debit_account_id = (op->>'debit')::bigint
            and t.amount = (op->>'amount')::bigint
          when 'post' then t.phase = 'post'
            and t.pending_id = (op->>'pending_id')::bigint
            and t.credit_account_id = (op->>'credit')::bigint
            and t.amount = coalesce((op->>'amount')::bigint, hold_amount) - coalesce((op->>'fee')::bigint, 0)
          when 'void' then t.phase = 'void' and t.pending_id = (op->>'pending_id')::bigint
          else false
        end
      then 'ok' else 'key_reused' end
    $$`.execute(db);

  await sql`
    create function ledger_raise_conflict() returns text language plpgsql as $$
    begin
      -- Another transaction committed one of the batch's keys after the batch looked; undo it for a retry.
      raise exception 'ledger batch raced a concurrent use of the same key' using errcode = '40001';
    end $$`.execute(db);

  // One statement per batch. Locks come first, in a fixed order: the holds and reversed transfers the batch
  // refers to (by id), then the user wallets it touches (by id). Balances and hold states are read from the
  // locking CTEs, which return the latest committed versions, never from the statement's older snapshot.
  // The locking CTEs filter on an id array computed once (an InitPlan), not on a join: a row updated
  // concurrently is re-checked against that same array, so it cannot drop out of the result.
  await sql`
    create function ledger_apply(p_ops jsonb, p_now timestamptz)
    returns setof ledger_result
    language plpgsql
    -- A batch is a few rows looked up by key: always index lookups, one cached plan per session, whatever
    -- the estimates for jsonb_array_elements or stale statistics say.
    set enable_hashjoin = off
    set enable_mergejoin = off
    set enable_seqscan = off
    set plan_cache_mode = force_generic_plan
    as $fn$
    begin
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
      refs as (
        select x.id, x.phase, x.state, x.amount, x.debit_account_id, x.expires_at
        from transfers x
        where x.id = any(array(select pending_id from o union all select reverses from o))
        order by x.id
        for update
      ),
      wallets as (
        select a.id, a.kind, a.balance
        from accounts a
        where a.id = any(array(select debit from o union all select credit from o
                               union all select debit_account_id from refs))
          and a.kind = 'user'
        order by a.id
        for update
      ),
      m as (
        select o.*, ex as existing, ex.id as existing_id,
               h.id as h_id, h.state as h_state, h.amount as h_amount, h.debit_account_id as h_debit,
               h.expires_at as h_expires,
               case when o.op in ('transfer', 'hold') then o.debit else 2 end as d_id,
               case o.op when 'transfer' then o.credit when 'hold' then 2 when 'post' then o.credit
                         else h.debit_account_id end as c_id,
               case o.op when 'post' then coalesce(o.amount, h.amount) when 'void' then h.amount
                         else o.amount end as gross
        from o
        left join transfers ex on ex.idempotency_key = o.key
        left join refs h on h.id = o.pending_id and h.phase = 'pending' and o.op in ('post', 'void')
      ),
      c as (
        select m.*,
               coalesce(dw.kind, da.kind) as d_kind, dw.balance as d_bal, coalesce(du.frozen, false) as d_frozen,
               coalesce(cw.kind, ca.kind) as c_kind, coalesce(cu.frozen, false) as c_frozen,
               (select x.amount - coalesce((select sum(r.amount) from transfers r where r.reverses_id = x.id), 0)
                  from refs x
                 where x.id = m.reverses and x.state = 'posted' and x.phase <> 'pending') as reversible,
               exists (select 1 from m m2
                        where m2.idx < m.idx and m.d_id >= 1000
                          and (m2.c_id = m.d_id or (m2.op = 'post' and m2.h_debit = m.d_id))) as credited_earlier
        from m
        left join wallets dw on dw.id = m.d_id
        left join accounts da on da.id = m.d_id and m.d_id < 1000
        left join users du on du.id = m.d_id
        left join wallets cw on cw.id = m.c_id
        left join accounts ca on ca.id = m.c_id and m.c_id < 1000
        left join users cu on cu.id = m.c_id
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
               w.balance + sum(d.delta) over (partition by d.account order by d.idx
                                              rows between unbounded preceding and current row) as after
        from deltas d join wallets w on w.id = d.account
      ),
      moved as (
        update accounts a set balance = a.balance + s.delta
        from (select account, sum(delta) as delta from deltas group by account) s
        where a.id = s.account
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
        from r where r.code = 'ok' and r.op in ('post', 'void') and t.id = r.h_id
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

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function ledger_apply(jsonb, timestamptz)`.execute(db);
  await sql`drop function ledger_replay_code(transfers, jsonb, bigint)`.execute(db);
  await sql`drop function ledger_raise_conflict()`.execute(db);
  await sql`drop type ledger_result`.execute(db);
}

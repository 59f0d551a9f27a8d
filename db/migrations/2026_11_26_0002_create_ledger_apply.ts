import { sql, type Kysely } from 'kysely';

/**
 * ledger_apply(ops, now) applies a batch of ledger operations in the caller's transaction and returns one
 * row per operation with a result code. Refusals write nothing; they never abort the batch.
 *
 * Every user wallet the batch touches is locked first, in id order, and then every hold it resolves, so
 * concurrent batches cannot deadlock on accounts. System accounts (mint, escrow, fees, burn) are never
 * locked or updated: their balances are derived from the transfers, which keeps them from serialising
 * the economy.
 */
export async function up(db: Kysely<any>): Promise<void> {
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
    create function ledger_apply(p_ops jsonb, p_now timestamptz)
    returns table (idx integer, code text, transfer_id bigint, replayed boolean,
                   debit_balance bigint, credit_balance bigint)
    language plpgsql as $fn$
    declare
      op jsonb;
      n integer := -1;
      v_op text;
      v_key text;
      v_amount bigint;
      v_fee bigint;
      v_debit bigint;
      v_credit bigint;
      v_force boolean;
      v_id bigint;
      v_hold_amount bigint;
      v_holds bigint[];
      v_accounts bigint[];
      d record;
      c record;
      h transfers%rowtype;
      t transfers%rowtype;
    begin
      v_holds := array(select (e->>'pending_id')::bigint from jsonb_array_elements(p_ops) e
                       where e ? 'pending_id' order by 1);
      v_accounts := array(
        select x.id from (
          select (e->>'debit')::bigint as id from jsonb_array_elements(p_ops) e where e ? 'debit'
          union select (e->>'credit')::bigint from jsonb_array_elements(p_ops) e where e ? 'credit'
          union select h2.debit_account_id from transfers h2 where h2.id = any(v_holds)
        ) x where x.id >= 1000 order by 1);
      perform 1 from accounts a where a.id = any(v_accounts) order by a.id for update;
      perform 1 from transfers x where x.id = any(v_holds) order by x.id for update;

      for op in select value from jsonb_array_elements(p_ops) loop
        n := n + 1;
        idx := n;
        code := 'ok';
        transfer_id := null;
        replayed := false;
        debit_balance := null;
        credit_balance := null;
        v_op := op->>'op';
        v_key := op->>'key';
        v_force := coalesce((op->>'force')::boolean, false);
        h := null;

        if v_op in ('post', 'void') then
          select x.* into h from transfers x where x.id = (op->>'pending_id')::bigint and x.phase = 'pending';
        end if;

        select x.* into t from transfers x where x.idempotency_key = v_key;
        if found then
          code := ledger_replay_code(t, op, h.amount);
          transfer_id := t.id;
          replayed := true;
          debit_balance := t.debit_balance_after;
          credit_balance := t.credit_balance_after;
          return next;
          continue;
        end if;

        if v_op in ('transfer', 'hold') then
          v_debit := (op->>'debit')::bigint;
          v_credit := case when v_op = 'hold' then 2 else (op->>'credit')::bigint end;
          v_amount := (op->>'amount')::bigint;
        elsif h.id is null then
          code := 'unknown_transfer';
        elsif h.state = 'posted' then
          code := 'already_posted';
        elsif h.state = 'voided' then
          code := 'already_voided';
        elsif v_op = 'post' then
          v_debit := 2;
          v_credit := (op->>'credit')::bigint;
          v_amount := coalesce((op->>'amount')::bigint, h.amount);
          v_fee := coalesce((op->>'fee')::bigint, 0);
          if h.expires_at <= p_now then
            code := 'expired';
          elsif v_amount > h.amount then
            code := 'exceeds_hold';
          elsif v_fee >= v_amount then
            code := 'invalid_fee';
          end if;
        else
          v_debit := 2;
          v_credit := h.debit_account_id;
          v_amount := h.amount;
          v_force := true; -- a void returns the holder's own coins, frozen or not
        end if;

        if code = 'ok' and (v_amount is null or v_amount <= 0) then
          code := 'invalid_amount';
        end if;

        if code = 'ok' then
          select a.kind, a.balance, coalesce(u.frozen, false) as frozen into d
          from accounts a left join users u on u.id = a.id where a.id = v_debit;
          select a.kind, a.balance, coalesce(u.frozen, false) as frozen into c
          from accounts a left join users u on u.id = a.id where a.id = v_credit;
          if d.kind is null or c.kind is null then
            code := 'unknown_account';
          elsif v_debit = v_credit then
            code := 'same_account';
          elsif v_op = 'transfer' and 2 in (v_debit, v_credit) then
            code := 'escrow_reserved';
          elsif not v_force and (d.frozen or c.frozen) then
            code := 'frozen';
          elsif d.kind = 'user' and d.balance < v_amount then
            code := 'insufficient_funds';
          elsif v_op = 'transfer' and op ? 'reverses' and (op->>'reverses')::bigint not in (
            select x.id from transfers x where x.state = 'posted' and x.phase <> 'pending') then
            code := 'unknown_transfer';
          elsif v_op = 'transfer' and op ? 'reverses' and v_amount > (
            select x.amount - coalesce((select sum(r.amount) from transfers r where r.reverses_id = x.id), 0)
            from transfers x where x.id = (op->>'reverses')::bigint) then
            code := 'exceeds_reversible';
          end if;
        end if;

        if code <> 'ok' then
          return next;
          continue;
        end if;

        v_hold_amount := h.amount;
        insert into transfers (idempotency_key, debit_account_id, credit_account_id, amount, phase, state,
          pending_id, reverses_id, expires_at, reason, memo, ref, actor_id,
          debit_balance_after, credit_balance_after, created_at)
        values (v_key, v_debit, v_credit, v_amount - coalesce(v_fee, 0),
          case v_op when 'transfer' then 'single' when 'hold' then 'pending' else v_op end,
          case v_op when 'hold' then 'pending' else 'posted' end,
          h.id, (op->>'reverses')::bigint,
          case v_op when 'hold' then (op->>'expires_at')::timestamptz end,
          op->>'reason', op->>'memo', op->'ref', (op->>'actor')::bigint,
          case when d.kind = 'user' then d.balance - v_amount end,
          case when c.kind = 'user' then c.balance + v_amount - coalesce(v_fee, 0) end,
          p_now)
        on conflict (idempotency_key) do nothing
        returning id into v_id;

        if v_id is null then
          -- A concurrent transaction committed the same key after our first look.
          select x.* into t from transfers x where x.idempotency_key = v_key;
          code := ledger_replay_code(t, op, v_hold_amount);
          transfer_id := t.id;
          replayed := true;
          debit_balance := t.debit_balance_after;
          credit_balance := t.credit_balance_after;
          return next;
          continue;
        end if;

        if d.kind = 'user' then
          update accounts set balance = balance - v_amount where id = v_debit returning balance into debit_balance;
        end if;
        if c.kind = 'user' then
          update accounts set balance = balance + v_amount - coalesce(v_fee, 0) where id = v_credit
          returning balance into credit_balance;
        end if;

        if v_op = 'post' then
          if v_fee > 0 then
            insert into transfers (idempotency_key, debit_account_id, credit_account_id, amount, phase, state,
              pending_id, reason, ref, actor_id, created_at)
            values (v_key || ':fee', 2, coalesce((op->>'fee_account')::bigint, 3), v_fee, 'post', 'posted',
              h.id, 'fee', op->'ref', (op->>'actor')::bigint, p_now);
          end if;
          if h.amount > v_amount then
            with back as (
              update accounts set balance = balance + (h.amount - v_amount)
              where id = h.debit_account_id returning balance)
            insert into transfers (idempotency_key, debit_account_id, credit_account_id, amount, phase, state,
              pending_id, reason, ref, actor_id, credit_balance_after, created_at)
            select v_key || ':rest', 2, h.debit_account_id, h.amount - v_amount, 'post', 'posted',
              h.id, 'partial_post_remainder', op->'ref', (op->>'actor')::bigint, back.balance, p_now
            from back;
          end if;
        end if;
        if v_op in ('post', 'void') then
          update transfers set state = case v_op when 'post' then 'posted' else 'voided' end, resolved_at = p_now
          where id = h.id;
        end if;

        transfer_id := v_id;
        return next;
      end loop;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function ledger_apply(jsonb, timestamptz)`.execute(db);
  await sql`drop function ledger_replay_code(transfers, jsonb, bigint)`.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * `minecraft_grant(reqs, day, cap, now)`: a batch of `reward.grant` events in one call, so a batch costs one
 * round trip instead of a transaction of several statements. Per event (`reqs`: idx, id, server, uuid, amount,
 * source) it claims the webhook id (a seen id keeps its first answer), caps the amount by what the player may
 * still earn that day (events in idx order; the day's totals are locked in uuid order), moves the coins from
 * `mint` with `ledger_apply` (key `minecraft:<id>`), adds them to the day's total and stores the answer. Returns
 * every event's answer (idx, status, answer).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function minecraft_grant(p_reqs jsonb, p_day date, p_cap bigint, p_now timestamptz)
    returns table (idx integer, status integer, answer jsonb)
    language plpgsql
    as $fn$
    declare
      v_claimed text[];
      v_plan jsonb;
      v_ops jsonb;
      v_res jsonb;
      v_out jsonb;
    begin
      with ins as (
        insert into minecraft_events (webhook_id, type, server, status, answer, received_at)
        select r.id, 'reward.grant', r.server, 500,
               '{"error":{"code":"pending","message":"Being handled."}}'::jsonb, p_now
        from jsonb_to_recordset(p_reqs) as r(id text, server text)
        on conflict (webhook_id) do nothing
        returning webhook_id)
      select coalesce(array_agg(ins.webhook_id), '{}') into v_claimed from ins;

      -- Every claimed player's total for the day exists and is locked, in uuid order (no deadlocks).
      insert into minecraft_reward_days (player_uuid, day, granted)
      select distinct r.uuid, p_day, 0 from jsonb_to_recordset(p_reqs) as r(id text, uuid uuid)
      where r.id = any(v_claimed)
      order by 1
      on conflict do nothing;
      perform 1 from minecraft_reward_days d
      where d.day = p_day
        and d.player_uuid = any(array(select r.uuid from jsonb_to_recordset(p_reqs) as r(id text, uuid uuid)
                                      where r.id = any(v_claimed)))
      order by d.player_uuid for update;

      -- What each claimed event may pay: the running sum of a player's eligible events, clamped to the cap.
      with r as (
        select * from jsonb_to_recordset(p_reqs)
          as r(idx integer, id text, server text, uuid uuid, amount bigint, source text)
        where r.id = any(v_claimed)),
      u as (
        select r.*, us.id as user_id, coalesce(us.frozen, false) as frozen, d.granted as total0
        from r
        left join users us on us.minecraft_uuid = r.uuid
        join minecraft_reward_days d on d.player_uuid = r.uuid and d.day = p_day),
      c as (
        select u.*, sum(u.amount) filter (where u.user_id is not null and not u.frozen)
                      over (partition by u.uuid order by u.idx) as upto
        from u),
      p as (
        select c.idx, c.id, c.server, c.uuid, c.amount, c.source, c.user_id, c.frozen,
               case when c.user_id is null or c.frozen then 0
                    else greatest(least(p_cap - c.total0, c.upto) - least(p_cap - c.total0, c.upto - c.amount), 0)
               end as g
        from c)
      select coalesce(jsonb_agg(to_jsonb(p) order by p.idx), '[]') into v_plan from p;

      select coalesce(jsonb_agg(jsonb_build_object(
               'op', 'transfer', 'key', 'minecraft:' || (e->>'id'), 'debit', '1', 'credit', e->>'user_id',
               'amount', (e->>'g')::bigint, 'reason', 'minecraft_reward', 'memo', e->>'source',
               'ref', jsonb_build_object('server', e->>'server', 'uuid', e->>'uuid'))
             order by (e->>'idx')::integer), '[]')
      into v_ops
      from jsonb_array_elements(v_plan) e where (e->>'g')::bigint > 0;

      select coalesce(jsonb_agg(to_jsonb(l)), '[]') into v_res from ledger_apply(v_ops, p_now) l;

      with plan as (
        select * from jsonb_to_recordset(v_plan)
          as p(idx integer, id text, uuid uuid, amount bigint, source text, user_id bigint, frozen boolean, g bigint)),
      granted as (
        select plan.idx, (row_number() over (order by plan.idx) - 1)::integer as op_idx from plan where plan.g > 0),
      res as (select * from jsonb_to_recordset(v_res) as l(idx integer, code text)),
      o as (
        select plan.*,
               case when plan.user_id is null then 'not_linked'
                    when plan.frozen then 'frozen'
                    when plan.g = 0 then 'daily_cap_reached'
                    else coalesce(res.code, 'busy') end as code
        from plan left join granted on granted.idx = plan.idx left join res on res.idx = granted.op_idx)
      select coalesce(jsonb_agg(jsonb_build_object(
        'idx', o.idx, 'id', o.id, 'uuid', o.uuid, 'g', case when o.code = 'ok' then o.g else 0 end,
        'status', case o.code when 'ok' then 200 when 'not_linked' then 404 when 'frozen' then 403 else 409 end,
        'answer', case o.code
          when 'ok' then jsonb_build_object('ok', true, 'message',
            '+' || to_char(o.g, 'FM999,999,999,999,990') || ' coin' || case when o.g = 1 then '' else 's' end
            || ' for ' || o.source || case when o.g < o.amount then ' (the daily limit is reached)' else '' end || '.')
          when 'not_linked' then jsonb_build_object('error', jsonb_build_object('code', 'not_linked', 'message',
            'This Minecraft account is not linked to Discord yet: run /link in Discord to earn coins.'))
          when 'frozen' then jsonb_build_object('error', jsonb_build_object('code', 'frozen', 'message',
            'Your Coinhub wallet is frozen; ask an admin.'))
          when 'daily_cap_reached' then jsonb_build_object('error', jsonb_build_object('code', 'daily_cap_reached',
            'message', 'You earned the most coins a day allows (' || to_char(p_cap, 'FM999,999,999,999,990')
            || ' coin' || case when p_cap = 1 then '' else 's' end || '); more tomorrow.'))
          else jsonb_build_object('error', jsonb_build_object('code', o.code, 'message',
            'The ledger refused this reward (' || o.code || ').'))
        end)), '[]')
      into v_out from o;

      update minecraft_reward_days d set granted = d.granted + s.total
      from (select (e->>'uuid')::uuid as uuid, sum((e->>'g')::bigint) as total
            from jsonb_array_elements(v_out) e group by 1) s
      where d.player_uuid = s.uuid and d.day = p_day and s.total > 0;

      update minecraft_events ev set status = (e->>'status')::integer, answer = e->'answer'
      from jsonb_array_elements(v_out) e
      where ev.webhook_id = e->>'id';

      -- Every request's answer: its own, or for an id claimed elsewhere, the first one stored.
      return query
      select r.idx, ev.status, ev.answer
      from jsonb_to_recordset(p_reqs) as r(idx integer, id text)
      join minecraft_events ev on ev.webhook_id = r.id;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function minecraft_grant(jsonb, date, bigint, timestamptz)`.execute(db);
}

import { sql } from 'kysely';
import type { Db } from '../db/client.ts';
import { requirePermission, type Actor } from './rbac.ts';

/** Transfers folded into the rollups per transaction. */
const ROLLUP_BATCH = 20_000;
/** Days of per-user activity kept (the dashboard's longest range is 90 days). */
const ACTIVE_DAYS_KEPT = 100;

/**
 * Folds the transfers the feed relay has published since the last run into the dashboard's daily rollups
 * (`stats_daily`, `stats_active_users`, `stats_items_daily`). The relay's cursor is gap-safe (a transfer that
 * may still commit below it never exists), so trailing it counts every transfer exactly once. The cursor row
 * is locked for the run, so concurrent workers take turns. Returns how many transfers were folded.
 */
export async function rollupStats(db: Db, batch = ROLLUP_BATCH): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const cursor = await trx
      .selectFrom('stats_cursor')
      .select('last_id')
      .where('id', '=', 1)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const relay = await trx
      .selectFrom('feed_cursors')
      .select('last_id')
      .where('consumer', '=', 'redis')
      .executeTakeFirst();
    if (!relay) return 0;
    const from = BigInt(cursor.last_id);
    const horizon = BigInt(relay.last_id);
    if (horizon <= from) return 0;
    const to = horizon - from > BigInt(batch) ? from + BigInt(batch) : horizon;

    const { rows } = await sql<{ n: string }>`
      with src as (
        select t.id, (t.created_at at time zone 'UTC')::date as day, t.amount, t.debit_account_id as d,
               t.credit_account_id as c, t.reason, t.pending_id, t.actor_id
        from transfers t where t.id > ${from.toString()} and t.id <= ${to.toString()}
      ),
      net as (
        select day, account, sum(delta) as delta from (
          select day, c as account, amount as delta from src where c < 1000
          union all
          select day, d, -amount from src where d < 1000
        ) m group by day, account
      ),
      daily as (
        select s.day, count(*) as transfers,
               coalesce(sum(s.amount) filter (where s.d = 1), 0) as minted,
               coalesce(sum(s.amount) filter (where s.c = 4), 0) as burned,
               coalesce(sum(s.amount) filter (where s.reason = 'fee' and s.c = 3), 0) as fees,
               coalesce(sum(s.amount) filter (where s.d = 2 and s.reason in ('market_sale', 'fee')), 0) as market_volume,
               count(*) filter (where s.reason = 'market_sale') as market_sales,
               coalesce((select n.delta from net n where n.day = s.day and n.account = 1), 0) as net_mint,
               coalesce((select n.delta from net n where n.day = s.day and n.account = 2), 0) as net_escrow,
               coalesce((select n.delta from net n where n.day = s.day and n.account = 3), 0) as net_fees,
               coalesce((select n.delta from net n where n.day = s.day and n.account = 4), 0) as net_burn
        from src s group by s.day
      ),
      active as (
        insert into stats_active_users (day, user_id)
        select distinct day, actor_id from src where actor_id is not null
        on conflict do nothing
        returning day
      ),
      active_new as (select day, count(*) as n from active group by day),
      items as (
        insert into stats_items_daily as i (day, item_key, name, units, volume)
        select s.day, coalesce('catalog:' || l.catalog_item_id, 'listing:' || l.id),
               coalesce(ci.name, l.title), sum(o.quantity), sum(o.total)
        from src s
        join orders o on o.hold_transfer_id = s.pending_id
        join listings l on l.id = o.listing_id
        left join catalog_items ci on ci.id = l.catalog_item_id
        where s.reason = 'market_sale'
        group by 1, 2, 3
        on conflict (day, item_key) do update
          set units = i.units + excluded.units, volume = i.volume + excluded.volume, name = excluded.name
      ),
      up as (
        insert into stats_daily as d (day, transfers, minted, burned, fees, market_volume, market_sales,
          active_users, net_mint, net_escrow, net_fees, net_burn)
        select daily.day, transfers, minted, burned, fees, market_volume, market_sales,
               coalesce(active_new.n, 0), net_mint, net_escrow, net_fees, net_burn
        from daily left join active_new on active_new.day = daily.day
        on conflict (day) do update set
          transfers = d.transfers + excluded.transfers,
          minted = d.minted + excluded.minted,
          burned = d.burned + excluded.burned,
          fees = d.fees + excluded.fees,
          market_volume = d.market_volume + excluded.market_volume,
          market_sales = d.market_sales + excluded.market_sales,
          active_users = d.active_users + excluded.active_users,
          net_mint = d.net_mint + excluded.net_mint,
          net_escrow = d.net_escrow + excluded.net_escrow,
          net_fees = d.net_fees + excluded.net_fees,
          net_burn = d.net_burn + excluded.net_burn
      )
      select count(*)::text as n from src`.execute(trx);
    await trx.updateTable('stats_cursor').set({ last_id: to.toString() }).where('id', '=', 1).execute();
    await trx
      .deleteFrom('stats_active_users')
      .where('day', '<', sql<string>`current_date - ${ACTIVE_DAYS_KEPT}::int`)
      .execute();
    return Number(rows[0]!.n);
  });
}

export const DASHBOARD_RANGES = { '7d': 7, '30d': 30, '90d': 90 } as const;
export type DashboardRange = keyof typeof DASHBOARD_RANGES;

export interface DashboardDay {
  day: string;
  transfers: number;
  minted: number;
  burned: number;
  fees: number;
  marketVolume: number;
  marketSales: number;
  activeUsers: number;
}

export interface Dashboard {
  range: DashboardRange;
  /** One entry per UTC day of the range, oldest first, zeros where nothing happened. */
  days: DashboardDay[];
  /** Coins in user wallets and escrow, minted minus burned and fees, all time. */
  circulation: number;
  /** Coins held in escrow for open orders. */
  escrowHeld: number;
  openOrders: number;
  topItems: { itemKey: string; name: string; units: number; volume: number }[];
  /** The newest transfer the rollups include. */
  throughTransferId: string;
}

/** How long a process reuses a dashboard it computed: the rollups behind it move every 10 seconds anyway. */
export const DASHBOARD_CACHE_MS = 2_000;
const cached = new WeakMap<Db, Map<DashboardRange, { at: number; value: Promise<Dashboard> }>>();

/**
 * The dashboard, from the rollups only (never a scan of `transfers`). Concurrent and repeated requests within
 * DASHBOARD_CACHE_MS share one computation; the permission check runs for every caller.
 */
export function dashboard(db: Db, reader: Actor, range: DashboardRange, now: Date): Promise<Dashboard> {
  requirePermission(reader, 'feed.view');
  let perRange = cached.get(db);
  if (!perRange) cached.set(db, (perRange = new Map()));
  const hit = perRange.get(range);
  if (hit && performance.now() - hit.at < DASHBOARD_CACHE_MS) return hit.value;
  const value = computeDashboard(db, range, now);
  perRange.set(range, { at: performance.now(), value });
  value.catch(() => perRange.delete(range));
  return value;
}

async function computeDashboard(db: Db, range: DashboardRange, now: Date): Promise<Dashboard> {
  const days = DASHBOARD_RANGES[range];
  const today = now.toISOString().slice(0, 10);
  const { rows } = await sql<{
    day: string;
    transfers: string;
    minted: string;
    burned: string;
    fees: string;
    market_volume: string;
    market_sales: string;
    active_users: number;
  }>`
    select to_char(g.day, 'YYYY-MM-DD') as day,
           coalesce(s.transfers, 0) as transfers, coalesce(s.minted, 0) as minted, coalesce(s.burned, 0) as burned,
           coalesce(s.fees, 0) as fees, coalesce(s.market_volume, 0) as market_volume,
           coalesce(s.market_sales, 0) as market_sales, coalesce(s.active_users, 0) as active_users
    from generate_series(${today}::date - ${days - 1}::int, ${today}::date, interval '1 day') as g(day)
    left join stats_daily s on s.day = g.day
    order by g.day`.execute(db);
  const [totals, open, top, cursor] = await Promise.all([
    db
      .selectFrom('stats_daily')
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<string>('net_mint'), sql<string>`0`).as('mint'),
        eb.fn.coalesce(eb.fn.sum<string>('net_escrow'), sql<string>`0`).as('escrow'),
        eb.fn.coalesce(eb.fn.sum<string>('net_fees'), sql<string>`0`).as('fees'),
        eb.fn.coalesce(eb.fn.sum<string>('net_burn'), sql<string>`0`).as('burn'),
      ])
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('state', 'in', ['pending', 'delivered', 'disputed'])
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('stats_items_daily')
      .select((eb) => [
        'item_key',
        eb.fn.max('name').as('name'),
        eb.fn.sum<string>('units').as('units'),
        eb.fn.sum<string>('volume').as('volume'),
      ])
      .where('day', '>', sql<string>`${today}::date - ${days}::int`)
      .groupBy('item_key')
      .orderBy('volume', 'desc')
      .limit(10)
      .execute(),
    db.selectFrom('stats_cursor').select('last_id').where('id', '=', 1).executeTakeFirstOrThrow(),
  ]);
  return {
    range,
    days: rows.map((r) => ({
      day: r.day,
      transfers: Number(r.transfers),
      minted: Number(r.minted),
      burned: Number(r.burned),
      fees: Number(r.fees),
      marketVolume: Number(r.market_volume),
      marketSales: Number(r.market_sales),
      activeUsers: Number(r.active_users),
    })),
    circulation: -(Number(totals.mint) + Number(totals.fees) + Number(totals.burn)),
    escrowHeld: Number(totals.escrow),
    openOrders: Number(open.n),
    topItems: top.map((t) => ({
      itemKey: t.item_key,
      name: String(t.name),
      units: Number(t.units),
      volume: Number(t.volume),
    })),
    throughTransferId: String(cursor.last_id),
  };
}

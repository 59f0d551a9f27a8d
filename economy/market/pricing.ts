import { sql } from 'kysely';
import { transact, type Db, type Tx } from '../../db/client.ts';
import { AppError } from '../errors.ts';
import { coins, type MarketSettings } from './types.ts';

export interface ReferencePrice {
  catalogItemId: string;
  /** The price the guards compare against. */
  reference: number;
  /** `sales`: the median of recent completed sales; `base`: too few sales, so the catalog's base price. */
  source: 'sales' | 'base';
  /** Completed sales behind the median (0 when the base price is used because there were none). */
  salesCount: number;
}

/** The reference price of a catalog item as of the last rollup. */
export async function referencePrice(db: Db | Tx, catalogItemId: string): Promise<ReferencePrice> {
  const row = await db
    .selectFrom('catalog_items as c')
    .leftJoin('price_refs as r', 'r.catalog_item_id', 'c.id')
    .select(['c.base_price', 'r.reference_price', 'r.sales_count'])
    .where('c.id', '=', catalogItemId)
    .executeTakeFirst();
  if (!row) throw new AppError('catalog_item_not_found', 'No such catalog item.', 404);
  return row.reference_price === null
    ? { catalogItemId, reference: Number(row.base_price), source: 'base', salesCount: row.sales_count ?? 0 }
    : {
        catalogItemId,
        reference: Number(row.reference_price),
        source: 'sales',
        salesCount: row.sales_count!,
      };
}

const basisPoints = (pct: number) => BigInt(Math.round(pct * 100));

/** The lowest unit price allowed: PRICE_FLOOR_PCT percent of the reference, rounded up to whole coins. */
export function priceFloor(reference: number, settings: Pick<MarketSettings, 'floorPct'>): number {
  const scaled = BigInt(reference) * basisPoints(settings.floorPct);
  return Number((scaled + 9_999n) / 10_000n);
}

/** The highest unit price allowed (PRICE_CEILING_PCT percent of the reference, rounded down), or null for none. */
export function priceCeiling(reference: number, settings: Pick<MarketSettings, 'ceilingPct'>): number | null {
  if (settings.ceilingPct === null) return null;
  return Number((BigInt(reference) * basisPoints(settings.ceilingPct)) / 10_000n);
}

/** Throws when `unitPrice` is outside the guards for an item whose reference is `ref`; the message states the limit. */
export function assertWithinGuards(
  itemName: string,
  ref: ReferencePrice,
  unitPrice: number,
  settings: Pick<MarketSettings, 'floorPct' | 'ceilingPct'>,
): void {
  const basis = `${ref.source === 'sales' ? 'its recent sale price' : 'its base price'} of ${coins(ref.reference)}`;
  const floor = priceFloor(ref.reference, settings);
  if (unitPrice < floor) {
    throw new AppError(
      'price_below_floor',
      `${itemName} cannot be listed below ${coins(floor)} each (${settings.floorPct}% of ${basis}).`,
      422,
      { floor, reference: ref.reference },
    );
  }
  const ceiling = priceCeiling(ref.reference, settings);
  if (ceiling !== null && unitPrice > ceiling) {
    throw new AppError(
      'price_above_ceiling',
      `${itemName} cannot be listed above ${coins(ceiling)} each (${settings.ceilingPct}% of ${basis}).`,
      422,
      { ceiling, reference: ref.reference },
    );
  }
}

export interface RollupResult {
  /** New or changed sales taken from the backlog. */
  sales: number;
  /** Catalog items whose reference was recomputed. */
  items: number;
}

/**
 * The incremental price rollup. Its cursor is the backlog of sales not yet rolled up (new completions, and
 * refunded sales flagged again): it recomputes only the items those touch, plus items whose oldest counted
 * sale has left the window since the last run. Concurrent runs split the backlog (SKIP LOCKED).
 */
export async function rollupPrices(
  db: Db,
  now: Date,
  settings: Pick<MarketSettings, 'refSales' | 'refMinSales' | 'refWindowDays'>,
  batchSize = 1000,
): Promise<RollupResult> {
  const windowStart = new Date(now.getTime() - settings.refWindowDays * 86_400_000);
  const total: RollupResult = { sales: 0, items: 0 };
  for (;;) {
    const step = await transact(db, async (trx) => {
      const backlog = await trx
        .selectFrom('price_sales')
        .select(['id', 'catalog_item_id'])
        .where('rolled_up', '=', false)
        .orderBy('id')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      const aged = await trx
        .selectFrom('price_refs')
        .select('catalog_item_id')
        .where('oldest_sale_at', '<', windowStart)
        .limit(batchSize)
        .execute();
      const items = [...new Set([...backlog, ...aged].map((r) => String(r.catalog_item_id)))];
      if (items.length > 0) {
        await sql`
          insert into price_refs (catalog_item_id, reference_price, sales_count, oldest_sale_at, computed_at)
          select i.id,
                 case when s.n >= ${settings.refMinSales} then s.median end,
                 s.n, s.oldest, ${now}
          from unnest(${items}::bigint[]) as i(id)
          cross join lateral (
            select percentile_disc(0.5) within group (order by r.unit_price) as median,
                   count(*)::int as n, min(r.completed_at) as oldest
            from (
              select p.unit_price, p.completed_at from price_sales p
              where p.catalog_item_id = i.id and not p.voided
                and p.completed_at > ${windowStart}
              order by p.completed_at desc, p.id desc
              limit ${settings.refSales}
            ) r
          ) s
          on conflict (catalog_item_id) do update set
            reference_price = excluded.reference_price, sales_count = excluded.sales_count,
            oldest_sale_at = excluded.oldest_sale_at, computed_at = excluded.computed_at`.execute(trx);
      }
      if (backlog.length > 0) {
        await trx
          .updateTable('price_sales')
          .set({ rolled_up: true })
          .where(
            'id',
            'in',
            backlog.map((r) => r.id),
          )
          .execute();
      }
      return { sales: backlog.length, items: items.length, more: backlog.length === batchSize };
    });
    total.sales += step.sales;
    total.items += step.items;
    if (!step.more) return total;
  }
}

import { marketFor } from '../../economy/market/market.ts';
import { rollupPrices } from '../../economy/market/pricing.ts';
import { liveMarketSettings } from '../../economy/settings.ts';
import type { MarketJobDeps } from './market-orders.ts';

/** Runs the incremental reference-price rollup over the sales completed since the last run. */
export async function handlePriceRollup(deps: MarketJobDeps): Promise<{ sales: number; items: number }> {
  const result = await rollupPrices(deps.db, marketFor(deps).now(), await liveMarketSettings(deps));
  if (result.items > 0) deps.log.info(result, 'reference prices updated');
  return result;
}

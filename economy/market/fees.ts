/**
 * The market fee of an order: MARKET_FEE percent of the total, rounded DOWN to whole coins, so the seller
 * receives `total - fee` and `seller + fee = total` always. The percent is read to two decimals (basis
 * points) and the product is computed on bigints, so no float touches the amount.
 */
export function marketFee(total: number, feePct: number): number {
  if (!Number.isSafeInteger(total) || total <= 0)
    throw new RangeError(`total must be a positive whole number`);
  if (!(feePct >= 0 && feePct < 100))
    throw new RangeError('the fee percent must be at least 0 and below 100');
  const basisPoints = BigInt(Math.round(feePct * 100));
  return Number((BigInt(total) * basisPoints) / 10_000n);
}

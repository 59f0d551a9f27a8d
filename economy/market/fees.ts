/**
 * The market fee of an order: MARKET_FEE percent of the total, rounded DOWN to whole coins, so the seller
 * receives `total - fee` and `seller + fee = total` always. The percent is read to two decimals (basis
 * points) and the product is computed on bigints, so no float touches the amount.
 */
export function marketFee(total: number, feePct: number): number {
  if (!Number.isSafeInteger(total) || total <= 0)
    throw new RangeError(`total must be a positive whole number`);
  // Checked on what is used: 99.995 % rounds to 10,000 basis points, a fee that takes the whole sale.
  const basisPoints = Number.isFinite(feePct) ? Math.round(feePct * 100) : NaN;
  if (!(basisPoints >= 0 && basisPoints < 10_000))
    throw new RangeError('the fee percent, read to two decimals, must be at least 0 and below 100');
  return Number((BigInt(total) * BigInt(basisPoints)) / 10_000n);
}

import { describe, expect, it } from 'vitest';
import { marketFee } from './fees.ts';

describe('marketFee', () => {
  it('rounds down to whole coins', () => {
    expect(marketFee(100, 5)).toBe(5);
    expect(marketFee(19, 5)).toBe(0);
    expect(marketFee(20, 5)).toBe(1);
    expect(marketFee(39, 5)).toBe(1);
    expect(marketFee(1, 0)).toBe(0);
    expect(marketFee(1000, 2.5)).toBe(25);
    expect(marketFee(999, 2.5)).toBe(24);
  });

  it('reads fractional percents exactly where floats would not', () => {
    // 0.29 * 100 is 28.999999999999996 in floating point; basis points keep it 29.
    expect(marketFee(10_000, 0.29)).toBe(29);
    expect(marketFee(100, 1.1)).toBe(1);
  });

  it('keeps seller + fee = total, with the fee whole and below the total, over many prices and rates', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      const total = 1 + Math.floor(random() ** 3 * 1_000_000_000_000);
      const pct = [0, 1, 2.5, 5, 7.25, 10, 33.33, 50, 99.99][i % 9]!;
      const fee = marketFee(total, pct);
      const seller = total - fee;
      expect(Number.isSafeInteger(fee)).toBe(true);
      expect(fee).toBeGreaterThanOrEqual(0);
      expect(seller).toBeGreaterThan(0);
      expect(seller + fee).toBe(total);
      // Rounded down: the exact fee lies in [fee, fee + 1).
      const exact = (BigInt(total) * BigInt(Math.round(pct * 100))) % 10_000n;
      expect(BigInt(fee) * 10_000n + exact).toBe(BigInt(total) * BigInt(Math.round(pct * 100)));
    }
  });

  it('refuses a total that is not a positive whole number and a percent of 100 or more', () => {
    expect(() => marketFee(0, 5)).toThrow(RangeError);
    expect(() => marketFee(1.5, 5)).toThrow(RangeError);
    expect(() => marketFee(10, 100)).toThrow(RangeError);
    expect(() => marketFee(10, -1)).toThrow(RangeError);
  });

  it('refuses a percent that rounds to 100 at two decimals (it would take the whole sale)', () => {
    expect(() => marketFee(10_000, 99.995)).toThrow(RangeError);
    expect(() => marketFee(10_000, 99.999)).toThrow(RangeError);
    expect(marketFee(10_000, 99.994)).toBe(9_999);
  });
});

/**
 * How numbers read, everywhere a player or admin sees one: the economy's sentences and Discord's views both
 * use these (config/ is the one layer both may import).
 */

/** `1,250`. */
export const formatNumber = (n: number): string => n.toLocaleString('en-US');

/** `1 coin`, `1,250 coins`. */
export const coins = (n: number): string => `${formatNumber(n)} ${Math.abs(n) === 1 ? 'coin' : 'coins'}`;

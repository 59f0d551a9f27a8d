import { z } from 'zod';

const wholeNumber = (min: number, max: number) => z.number().int('must be a whole number').min(min).max(max);

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Each setting's value schema; a setting that may be switched off is nullable in economySettingsSchema. */
const fields = {
  /** Coins for a daily claim without a streak. */
  dailyBase: wholeNumber(0, 1_000_000),
  /** Extra coins per consecutive day after the first. */
  dailyStreakBonus: wholeNumber(0, 1_000_000),
  /** The most streak days that earn a bonus. */
  dailyStreakCap: wholeNumber(0, 1000),
  /** IANA zone whose local days are the daily-claim and pay-limit windows. */
  dailyTimeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Berlin'),
  /** Most coins a user may send with /pay per local day; 0 turns /pay off. */
  payDailyLimit: wholeNumber(0, Number.MAX_SAFE_INTEGER),
  /**
   * Percent of an order's total that goes to `fees`. The market reads it to two decimals (basis points); what it
   * reads must stay below 100 %, or every sale would pay the seller nothing and stay in escrow.
   */
  marketFeePct: z.number().min(0).lt(99.995, 'must be below 100 (read to two decimals: 99.99 at most)'),
  /** Lowest price of a catalog item's listing, in percent of its reference price. */
  priceFloorPct: z.number().min(0).max(100),
  /** Highest price, in percent of the reference price (null: no ceiling). */
  priceCeilingPct: z.number().min(100).max(100_000),
  /** Minutes an undelivered order's coins stay in escrow before it is refunded. */
  escrowTimeoutMin: wholeNumber(1, 60 * 24 * 30),
  /** Hours a buyer has to confirm or dispute a delivered order. */
  confirmWindowH: wholeNumber(1, 24 * 30),
  /** Most open listings a player may have. */
  maxActiveListings: wholeNumber(1, 1000),
  /** Discord actions a user may take per rate-limit window. */
  rateLimitActions: wholeNumber(1, 10_000),
  /** The rate-limit window, in seconds. */
  rateLimitWindowS: wholeNumber(1, 3600),
};

/**
 * The economy's tunable parameters. The environment gives their defaults (envSchema reads each through
 * `fromEnv`, the same field) and the panel stores overrides in the database (economy/settings.ts), so one
 * schema validates both.
 */
export const economySettingsSchema = z
  .object({ ...fields, priceCeilingPct: fields.priceCeilingPct.nullable() })
  .strict();

export type EconomySettings = z.infer<typeof economySettingsSchema>;
export type EconomySettingKey = keyof EconomySettings;
export const ECONOMY_SETTING_KEYS = Object.keys(fields) as EconomySettingKey[];

/** The environment variable that gives each setting its default. */
export const ECONOMY_SETTING_ENV = {
  dailyBase: 'DAILY_BASE',
  dailyStreakBonus: 'DAILY_STREAK_BONUS',
  dailyStreakCap: 'DAILY_STREAK_CAP',
  dailyTimeZone: 'DAILY_TIMEZONE',
  payDailyLimit: 'PAY_DAILY_LIMIT',
  marketFeePct: 'MARKET_FEE',
  priceFloorPct: 'PRICE_FLOOR_PCT',
  priceCeilingPct: 'PRICE_CEILING_PCT',
  escrowTimeoutMin: 'ESCROW_TIMEOUT_MIN',
  confirmWindowH: 'MARKET_CONFIRM_WINDOW_H',
  maxActiveListings: 'MARKET_MAX_ACTIVE_LISTINGS',
  rateLimitActions: 'RATE_LIMIT_ACTIONS',
  rateLimitWindowS: 'RATE_LIMIT_WINDOW_S',
} as const satisfies Record<EconomySettingKey, string>;

/** A setting's field reading an environment string: a number field parses the text as a number first. */
export function fromEnv<K extends keyof typeof fields>(key: K) {
  const field = fields[key];
  return z.preprocess(
    (v) => (typeof v === 'string' && field instanceof z.ZodNumber ? Number(v) : v),
    field as (typeof fields)[K],
  );
}

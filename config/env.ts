import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { fromEnv } from './economy-settings.ts';

/** Secrets may come from `NAME_FILE` (Docker secrets) instead of `NAME`. */
export const SECRET_NAMES = [
  'DISCORD_TOKEN',
  'DISCORD_CLIENT_SECRET',
  'JWT_SECRET',
  'SESSION_SECRET',
  'MINECRAFT_API_KEY',
  'REDEMPTION_WEBHOOK_SECRET',
  'DATABASE_PASSWORD',
] as const;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const url = (protocols: string[]) =>
  z.url({
    protocol: new RegExp(`^(${protocols.join('|')})$`),
    error: `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`,
  });

export const envSchema = z.object({
  ROLE: z.enum(['all', 'api', 'worker', 'migrate']).default('all'),
  PORT: int(0, 65535).default(8787),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),

  DATABASE_URL: url(['postgres', 'postgresql']),
  /** Replaces the password in DATABASE_URL, so Docker can pass it as a secret file (DATABASE_PASSWORD_FILE). */
  DATABASE_PASSWORD: optionalString,
  DATABASE_POOL_MAX: int(1, 200).default(20),
  REDIS_URL: url(['redis', 'rediss']),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('coinhub'),

  DISCORD_PUBLIC_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters'),
  DISCORD_TOKEN: optionalString,
  DISCORD_CLIENT_ID: z
    .string()
    .regex(/^\d{17,20}$/, 'must be a Discord snowflake')
    .optional(),
  DISCORD_CLIENT_SECRET: optionalString,
  DISCORD_API_BASE: url(['http', 'https']).default('https://discord.com/api'),
  /** Where the panel's login sends the browser for Discord's authorize page. */
  DISCORD_OAUTH_BASE: url(['http', 'https']).default('https://discord.com'),
  /** The one Discord server this installation serves; required except under NODE_ENV=test (see parseConfig). */
  GUILD_ID: z
    .string()
    .regex(/^\d{17,20}$/, 'must be a Discord snowflake')
    .optional(),

  API_BASE_URL: url(['http', 'https']).default('http://localhost:8787'),
  PANEL_BASE_URL: url(['http', 'https']).default('http://localhost:8787'),
  JWT_SECRET: optionalString,
  SESSION_SECRET: optionalString,
  /** Panel logins (login and callback requests) per client IP per minute. */
  AUTH_RATE_LIMIT_PER_MIN: int(1, 10_000).default(20),
  /** /api calls per session or API token per minute. */
  API_RATE_LIMIT_PER_MIN: int(1, 100_000).default(600),

  MINECRAFT_API_URL: url(['http', 'https']).optional(),
  MINECRAFT_API_KEY: optionalString,
  REDEMPTION_WEBHOOK_SECRET: optionalString.refine(
    (v) => v === undefined || !v.startsWith('whsec_') || /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(v),
    'must be whsec_ followed by base64, or any other value (used as raw bytes)',
  ),
  MINECRAFT_REWARD_DAILY_CAP: int(1, 1_000_000_000).default(1000),
  MINECRAFT_SWEEP_EVERY_S: int(5, 3600).default(60),

  MARKET_FEE: fromEnv('marketFeePct').default(5),
  PRICE_FLOOR_PCT: fromEnv('priceFloorPct').default(50),
  PRICE_CEILING_PCT: fromEnv('priceCeilingPct').optional(),
  ESCROW_TIMEOUT_MIN: fromEnv('escrowTimeoutMin').default(1440),
  MARKET_CONFIRM_WINDOW_H: fromEnv('confirmWindowH').default(48),
  MARKET_MAX_ACTIVE_LISTINGS: fromEnv('maxActiveListings').default(10),
  MARKET_SWEEP_EVERY_S: int(5, 3600).default(60),
  PRICE_REF_SALES: int(1, 1000).default(20),
  PRICE_REF_MIN_SALES: int(1, 1000).default(3),
  PRICE_REF_WINDOW_D: int(1, 365).default(30),
  PRICE_ROLLUP_EVERY_S: int(5, 86_400).default(300),
  VOUCHER_TIMEOUT_H: int(1, 24 * 365).default(72),
  LEADERBOARD_CRON: z.string().min(9).default('0 18 * * 0'),

  DAILY_BASE: fromEnv('dailyBase').default(100),
  DAILY_STREAK_BONUS: fromEnv('dailyStreakBonus').default(10),
  DAILY_STREAK_CAP: fromEnv('dailyStreakCap').default(7),
  DAILY_TIMEZONE: fromEnv('dailyTimeZone').default('UTC'),
  PAY_DAILY_LIMIT: fromEnv('payDailyLimit').default(10_000),
  RATE_LIMIT_ACTIONS: fromEnv('rateLimitActions').default(10),
  RATE_LIMIT_WINDOW_S: fromEnv('rateLimitWindowS').default(10),
  /** Autocomplete requests per player per RATE_LIMIT_WINDOW_S: one per keystroke, so looser than actions. */
  RATE_LIMIT_AUTOCOMPLETE: int(1, 10_000).default(50),

  LEDGER_CHECK_CRON: z.string().min(9).default('*/15 * * * *'),
  /** Where the worker writes its heartbeat for the container healthcheck (scripts/healthcheck.ts reads it). */
  WORKER_HEARTBEAT_FILE: z.string().min(1).default('/tmp/coinhub-worker-heartbeat'),
  WORKER_HEARTBEAT_S: int(1, 300).default(10),

  /** Tests only (honoured when NODE_ENV=test): a file holding milliseconds to add to the clock. */
  TEST_CLOCK_OFFSET_FILE: optionalString,
});

/** The key .env.example once shipped: no Discord signature matches it, so every interaction would get a 401. */
const PLACEHOLDER_KEY = /^0{64}$/;

/** The schema with the rules that span variables: outside tests, the all-zero placeholder key is refused. */
const configSchema = envSchema.superRefine((env, ctx) => {
  if (env.NODE_ENV !== 'test' && PLACEHOLDER_KEY.test(env.DISCORD_PUBLIC_KEY))
    ctx.addIssue({
      code: 'custom',
      path: ['DISCORD_PUBLIC_KEY'],
      message:
        "is the all-zero placeholder, which no Discord signature matches; set your application's public key (npm run dev makes a development one)",
    });
});

export type Config = Readonly<z.infer<typeof envSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Resolves `NAME_FILE` into `NAME` for every secret; a file that cannot be read is a config error. */
function withSecretFiles(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  // An empty variable counts as unset, so `NAME=` lines copied from .env.example (or passed through by Compose)
  // mean "use the default".
  const out: Record<string, string | undefined> = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== ''),
  );
  for (const name of SECRET_NAMES) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) throw new ConfigError(`${name} and ${name}_FILE are both set; keep one`);
    try {
      out[name] = readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError(`${name}_FILE: cannot read ${file}`);
    }
  }
  return out;
}

/** Parses `env` (secret files resolved) with `schema`; throws ConfigError naming the first bad variable. */
function parseWith<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(withSecretFiles(env));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = issue.path.join('.');
    const problem = issue.code === 'invalid_type' && !env[name] ? 'is required' : issue.message;
    throw new ConfigError(`${name} ${problem}`);
  }
  return result.data;
}

/** Puts DATABASE_PASSWORD, when given, into DATABASE_URL. */
function withDatabasePassword<T extends { DATABASE_URL: string; DATABASE_PASSWORD?: string }>(cfg: T): T {
  if (cfg.DATABASE_PASSWORD === undefined) return cfg;
  const url = new URL(cfg.DATABASE_URL);
  url.password = encodeURIComponent(cfg.DATABASE_PASSWORD);
  return { ...cfg, DATABASE_URL: url.toString() };
}

/** Parses the environment once; throws ConfigError naming the first bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const cfg = parseWith(configSchema, env);
  // Without it every interaction would be refused (and before, any server could act): only tests may omit it.
  if (!cfg.GUILD_ID && cfg.NODE_ENV !== 'test') throw new ConfigError('GUILD_ID is required');
  return Object.freeze(withDatabasePassword(cfg));
}

/** DATABASE_URL with DATABASE_PASSWORD(_FILE) applied, for tools that need only the database (ledger:check). */
export function parseDatabaseUrl(env: NodeJS.ProcessEnv): string {
  return withDatabasePassword(parseWith(envSchema.pick({ DATABASE_URL: true, DATABASE_PASSWORD: true }), env))
    .DATABASE_URL;
}

let cached: Config | undefined;

/** The process's configuration, parsed on first use and frozen. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/**
 * Loads `file` (default `.env` in the working directory) into process.env with Node's own loader; variables
 * already set win. Tests (NODE_ENV=test) never read it. Returns the file loaded, if any.
 */
export function loadDotEnv(file = '.env', env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NODE_ENV === 'test' || !existsSync(file)) return undefined;
  try {
    process.loadEnvFile(file);
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return file;
}

/** For entry points: load .env, parse, or print one line naming the variable and exit 1. */
export function configOrExit(): Config {
  try {
    loadDotEnv();
    return config();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`coinhub: configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

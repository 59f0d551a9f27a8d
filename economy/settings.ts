import { sql } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config/env.ts';
import {
  ECONOMY_SETTING_KEYS,
  economySettingsSchema,
  type EconomySettingKey,
  type EconomySettings,
} from '../config/economy-settings.ts';
import { transact, type Db } from '../db/client.ts';
import { auditAction, type AuditEntry } from './audit.ts';
import { AppError } from './errors.ts';
import type { MarketSettings } from './market/types.ts';
import { requirePermission, type Actor } from './rbac.ts';

export type { EconomySettingKey, EconomySettings } from '../config/economy-settings.ts';

/** The environment's values: what every setting is until the panel saves another. */
export const settingsFromConfig = (cfg: Config): EconomySettings => ({
  dailyBase: cfg.DAILY_BASE,
  dailyStreakBonus: cfg.DAILY_STREAK_BONUS,
  dailyStreakCap: cfg.DAILY_STREAK_CAP,
  dailyTimeZone: cfg.DAILY_TIMEZONE,
  payDailyLimit: cfg.PAY_DAILY_LIMIT,
  marketFeePct: cfg.MARKET_FEE,
  priceFloorPct: cfg.PRICE_FLOOR_PCT,
  priceCeilingPct: cfg.PRICE_CEILING_PCT ?? null,
  escrowTimeoutMin: cfg.ESCROW_TIMEOUT_MIN,
  confirmWindowH: cfg.MARKET_CONFIRM_WINDOW_H,
  maxActiveListings: cfg.MARKET_MAX_ACTIVE_LISTINGS,
  rateLimitActions: cfg.RATE_LIMIT_ACTIONS,
  rateLimitWindowS: cfg.RATE_LIMIT_WINDOW_S,
});

/** A setting as the panel shows it: its live value, the environment's default and whether it is overridden. */
export interface SettingView<K extends EconomySettingKey = EconomySettingKey> {
  key: K;
  value: EconomySettings[K];
  default: EconomySettings[K];
  overridden: boolean;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface SettingsChange {
  /** False when every given value was already in force: nothing written and no audit row. */
  changed: boolean;
  settings: EconomySettings;
  audit: AuditEntry | null;
}

const patchSchema = economySettingsSchema.partial();
export type SettingsPatch = z.input<typeof patchSchema>;

/** How long a replica trusts its copy when no invalidation arrives (a lost pub/sub message, Redis down). */
export const SETTINGS_TTL_MS = 5_000;

interface Loaded {
  values: EconomySettings;
  rows: Map<EconomySettingKey, { updatedAt: Date; updatedBy: string | null }>;
}

/**
 * The live economy settings of a process: the environment's defaults overridden by the rows of
 * `economy_settings`. Reads are cached for at most SETTINGS_TTL_MS and dropped at once by `invalidate()`
 * (the edge calls it when another replica announces a change over Redis), so a saved value reaches every
 * replica within seconds without a restart.
 */
export class LiveSettings {
  private loaded: Loaded | undefined;
  private loadedAt = -Infinity;
  private loading: Promise<Loaded> | undefined;
  private generation = 0;

  constructor(
    private readonly db: Db,
    readonly defaults: EconomySettings,
    private readonly ttlMs = SETTINGS_TTL_MS,
  ) {}

  /** The values in force now. */
  async get(): Promise<EconomySettings> {
    return (await this.load()).values;
  }

  /** The values last read, without waiting (refreshing in the background when stale): for synchronous callers. */
  current(): EconomySettings {
    if (performance.now() - this.loadedAt >= this.ttlMs) void this.load().catch(() => undefined);
    return this.loaded?.values ?? this.defaults;
  }

  /** Forgets the cached values; the next read goes to the database. */
  invalidate(): void {
    this.generation++;
    this.loadedAt = -Infinity;
    this.loading = undefined;
  }

  /** Every setting with its default and whether the panel overrides it. */
  async view(): Promise<SettingView[]> {
    const { values, rows } = await this.load();
    return ECONOMY_SETTING_KEYS.map((key) => ({
      key,
      value: values[key],
      default: this.defaults[key],
      overridden: rows.has(key),
      updatedAt: rows.get(key)?.updatedAt ?? null,
      updatedBy: rows.get(key)?.updatedBy ?? null,
    }));
  }

  /**
   * Saves new values (validated together with the others in force, by the same schema as the environment),
   * and appends one audit row with the changed settings before and after. `reset` drops overrides, returning
   * those settings to the environment's default.
   */
  async update(
    actor: Actor,
    input: { values?: SettingsPatch; reset?: EconomySettingKey[] },
  ): Promise<SettingsChange> {
    requirePermission(actor, 'settings.change');
    const patch = patchSchema.safeParse(input.values ?? {});
    if (!patch.success) {
      const issue = patch.error.issues[0]!;
      throw new AppError('invalid_settings', `${issue.path.join('.') || 'settings'}: ${issue.message}`, 400);
    }
    const reset = input.reset ?? [];
    const unknown = reset.find((k) => !ECONOMY_SETTING_KEYS.includes(k));
    if (unknown !== undefined) throw new AppError('invalid_settings', `${unknown} is not a setting.`, 400);
    const both = reset.find((k) => k in patch.data);
    if (both !== undefined)
      throw new AppError('invalid_settings', `${both} is both set and reset; choose one.`, 400);

    const result = await transact(this.db, async (trx) => {
      // One writer at a time, so the before/after of concurrent changes are each other's after/before.
      await sql`select pg_advisory_xact_lock(hashtextextended('economy-settings', 0))`.execute(trx);
      const rows = await trx.selectFrom('economy_settings').select(['key', 'value']).execute();
      const stored = new Map(rows.map((r) => [r.key, r.value]));
      const before = this.merge(stored);
      for (const key of reset) stored.delete(key);
      for (const [key, value] of Object.entries(patch.data)) stored.set(key, value);
      const after = this.merge(stored);
      const merged = economySettingsSchema.safeParse(after);
      if (!merged.success) {
        const issue = merged.error.issues[0]!;
        throw new AppError('invalid_settings', `${issue.path.join('.')}: ${issue.message}`, 400);
      }
      const changedKeys = ECONOMY_SETTING_KEYS.filter(
        (k) => before[k] !== after[k] || (reset.includes(k) && rows.some((r) => r.key === k)),
      );
      if (changedKeys.length === 0) return { changed: false, settings: before, audit: null };

      const at = new Date();
      if (reset.length > 0) await trx.deleteFrom('economy_settings').where('key', 'in', reset).execute();
      const saved = Object.entries(patch.data).filter(([k]) => changedKeys.includes(k as EconomySettingKey));
      if (saved.length > 0) {
        await trx
          .insertInto('economy_settings')
          .values(
            saved.map(([key, value]) => ({
              key,
              value: JSON.stringify(value),
              updated_at: at,
              updated_by: actor.kind === 'member' ? actor.userId : null,
            })),
          )
          .onConflict((oc) =>
            oc.column('key').doUpdateSet((eb) => ({
              value: eb.ref('excluded.value'),
              updated_at: eb.ref('excluded.updated_at'),
              updated_by: eb.ref('excluded.updated_by'),
            })),
          )
          .execute();
      }
      const pick = (s: EconomySettings) => Object.fromEntries(changedKeys.map((k) => [k, s[k]]));
      const audit = await auditAction(trx, actor, {
        action: 'settings.change',
        target: { type: 'settings', id: 'economy' },
        before: pick(before),
        after: pick(after),
        reason: reset.length > 0 ? `reset to default: ${reset.join(', ')}` : null,
      });
      return { changed: true, settings: merged.data, audit };
    });
    if (result.changed) this.invalidate();
    return result;
  }

  /** The defaults overridden by stored values; a stored value the schema no longer accepts is ignored. */
  private merge(stored: Map<string, unknown>): EconomySettings {
    const out: Record<string, unknown> = { ...this.defaults };
    for (const key of ECONOMY_SETTING_KEYS) {
      if (!stored.has(key)) continue;
      const value = stored.get(key);
      if (economySettingsSchema.shape[key].safeParse(value).success) out[key] = value;
    }
    return out as EconomySettings;
  }

  private load(): Promise<Loaded> {
    if (this.loaded && performance.now() - this.loadedAt < this.ttlMs) return Promise.resolve(this.loaded);
    if (this.loading) return this.loading;
    const generation = this.generation;
    const loading = this.db
      .selectFrom('economy_settings')
      .select(['key', 'value', 'updated_at', 'updated_by'])
      .execute()
      .then((rows) => {
        const loaded: Loaded = {
          values: this.merge(new Map(rows.map((r) => [r.key, r.value]))),
          rows: new Map(
            rows
              .filter((r) => (ECONOMY_SETTING_KEYS as string[]).includes(r.key))
              .map((r) => [
                r.key as EconomySettingKey,
                { updatedAt: r.updated_at, updatedBy: r.updated_by === null ? null : String(r.updated_by) },
              ]),
          ),
        };
        // An invalidation while this read was in flight means it may predate the change: do not cache it.
        if (generation === this.generation) {
          this.loaded = loaded;
          this.loadedAt = performance.now();
        }
        return loaded;
      })
      .finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    this.loading = loading;
    return loading;
  }
}

const perDb = new WeakMap<Db, LiveSettings>();

/** The LiveSettings of a process, one per database handle (the API and worker of `ROLE=all` share it). */
export function settingsFor(deps: { db: Db; cfg: Config }): LiveSettings {
  let live = perDb.get(deps.db);
  if (!live) {
    live = new LiveSettings(deps.db, settingsFromConfig(deps.cfg));
    perDb.set(deps.db, live);
  }
  return live;
}

/** The market's knobs: the live settings plus the reference-price parameters, which stay in the environment. */
export function marketSettingsOf(settings: EconomySettings, cfg: Config): MarketSettings {
  return {
    feePct: settings.marketFeePct,
    floorPct: settings.priceFloorPct,
    ceilingPct: settings.priceCeilingPct,
    escrowTimeoutMin: settings.escrowTimeoutMin,
    confirmWindowH: settings.confirmWindowH,
    maxActiveListings: settings.maxActiveListings,
    refSales: cfg.PRICE_REF_SALES,
    refMinSales: cfg.PRICE_REF_MIN_SALES,
    refWindowDays: cfg.PRICE_REF_WINDOW_D,
  };
}

/** The market's knobs in force now. */
export async function liveMarketSettings(deps: { db: Db; cfg: Config }): Promise<MarketSettings> {
  return marketSettingsOf(await settingsFor(deps).get(), deps.cfg);
}

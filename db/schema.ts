import type { ColumnType } from 'kysely';

/**
 * Kysely's Generated (optional on insert) that also accepts a ColumnType: Kysely's own would nest the
 * ColumnType and make such columns incomparable with plain values in queries.
 */
type Generated<T> = [T] extends [ColumnType<infer S, infer I, infer U>]
  ? ColumnType<S, I | undefined, U>
  : ColumnType<T, T | undefined, T>;

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** bigint columns arrive from pg as strings; we parse them where they are read. */
type BigIntColumn = ColumnType<string, string | number | bigint, string | number | bigint>;
type GeneratedBigInt = ColumnType<string, string | number | bigint | undefined, never>;
type Json = ColumnType<unknown, string | undefined | null, string | null>;

export interface UsersTable {
  id: ColumnType<string, string | number | undefined, never>;
  discord_id: string;
  username: string;
  global_name: string | null;
  avatar: string | null;
  frozen: Generated<boolean>;
  frozen_reason: string | null;
  frozen_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  frozen_by: BigIntColumn | null;
  minecraft_uuid: string | null;
  minecraft_name: string | null;
  minecraft_linked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface AccountsTable {
  id: BigIntColumn;
  kind: 'user' | 'system';
  code: string | null;
  balance: ColumnType<string, string | number | bigint | undefined, string | number | bigint>;
  created_at: Generated<Timestamp>;
}

export interface TransfersTable {
  id: GeneratedBigInt;
  idempotency_key: string;
  debit_account_id: BigIntColumn;
  credit_account_id: BigIntColumn;
  amount: BigIntColumn;
  phase: 'single' | 'pending' | 'post' | 'void';
  state: 'posted' | 'pending' | 'voided';
  pending_id: BigIntColumn | null;
  reverses_id: BigIntColumn | null;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  resolved_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  reason: string;
  memo: string | null;
  ref: Json;
  actor_id: BigIntColumn | null;
  debit_balance_after: BigIntColumn | null;
  credit_balance_after: BigIntColumn | null;
  created_at: Generated<Timestamp>;
}

export interface DailyClaimsTable {
  user_id: BigIntColumn;
  day: ColumnType<string, string, string>;
  amount: BigIntColumn;
  streak: number;
  transfer_id: BigIntColumn | null;
  claimed_at: Generated<Timestamp>;
}

export interface DailyStreaksTable {
  user_id: BigIntColumn;
  current_streak: Generated<number>;
  best_streak: Generated<number>;
  last_day: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AuditLogTable {
  id: GeneratedBigInt;
  at: Generated<Timestamp>;
  actor_id: BigIntColumn | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: Json;
  after: Json;
  reason: string | null;
  source: 'discord' | 'panel' | 'system' | 'cli';
  request_id: string | null;
}

export interface GuildSettingsTable {
  guild_id: string;
  hub_channel_id: string | null;
  shop_channel_id: string | null;
  leaderboard_channel_id: string | null;
  tx_channel_id: string | null;
  hub_message_id: string | null;
  role_map: ColumnType<Record<string, string[]>, string | undefined, string>;
  updated_at: Generated<Timestamp>;
}

export interface LedgerChecksTable {
  id: GeneratedBigInt;
  at: Generated<Timestamp>;
  ok: boolean;
  report: ColumnType<unknown, string, never>;
}

export interface QuestsTable {
  id: GeneratedBigInt;
  title: string;
  description: Generated<string>;
  reward: BigIntColumn;
  active: Generated<boolean>;
  starts_at: Generated<Timestamp>;
  ends_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Generated<Timestamp>;
}

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface CatalogItemsTable {
  id: GeneratedBigInt;
  name: string;
  kind: 'discord_role' | 'minecraft_item' | 'other';
  description: string | null;
  role_id: string | null;
  minecraft_item: string | null;
  minecraft_command: string | null;
  base_price: BigIntColumn;
  active: Generated<boolean>;
  created_by: BigIntColumn | null;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface ListingsTable {
  id: GeneratedBigInt;
  seller_id: BigIntColumn | null;
  official: Generated<boolean>;
  created_by: BigIntColumn | null;
  catalog_item_id: BigIntColumn | null;
  title: string;
  description: string | null;
  unit_price: BigIntColumn;
  quantity_total: number;
  quantity_left: number;
  state: Generated<'active' | 'paused' | 'sold_out' | 'cancelled' | 'removed'>;
  guard_override: Generated<boolean>;
  guard_override_reason: string | null;
  guard_override_by: BigIntColumn | null;
  shop_channel_id: string | null;
  shop_message_id: string | null;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
  ended_at: NullableTimestamp;
}

export interface OrdersTable {
  id: GeneratedBigInt;
  idempotency_key: string;
  listing_id: BigIntColumn;
  buyer_id: BigIntColumn;
  seller_id: BigIntColumn | null;
  quantity: number;
  unit_price: BigIntColumn;
  total: BigIntColumn;
  fee: BigIntColumn;
  hold_transfer_id: BigIntColumn;
  settle_transfer_id: BigIntColumn | null;
  refund_transfer_id: BigIntColumn | null;
  state: Generated<'pending' | 'delivered' | 'completed' | 'refunded' | 'disputed'>;
  expires_at: Timestamp;
  delivered_at: NullableTimestamp;
  confirm_deadline: NullableTimestamp;
  completed_at: NullableTimestamp;
  refunded_at: NullableTimestamp;
  refund_reason:
    | 'seller_cancelled'
    | 'buyer_cancelled'
    | 'admin_refund'
    | 'escrow_expired'
    | 'restricted_item'
    | 'delivery_failed'
    | null;
  disputed_at: NullableTimestamp;
  dispute_reason: string | null;
  role_granted_at: NullableTimestamp;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface PriceSalesTable {
  id: GeneratedBigInt;
  catalog_item_id: BigIntColumn;
  order_id: BigIntColumn;
  unit_price: BigIntColumn;
  completed_at: Timestamp;
  voided: Generated<boolean>;
  rolled_up: Generated<boolean>;
}

export interface PriceRefsTable {
  catalog_item_id: BigIntColumn;
  reference_price: BigIntColumn | null;
  sales_count: number;
  oldest_sale_at: NullableTimestamp;
  computed_at: Timestamp;
}

export interface FeedCursorsTable {
  consumer: 'redis' | 'discord';
  last_id: BigIntColumn;
  gap_horizon: BigIntColumn | null;
  gap_xmax: BigIntColumn | null;
  gap_seen_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  plan_first: BigIntColumn | null;
  plan_last: BigIntColumn | null;
  plan_mode: 'embeds' | 'lines' | null;
  updated_at: Generated<Timestamp>;
}

export interface FeedMessagesTable {
  id: GeneratedBigInt;
  channel_id: string;
  message_id: string;
  first_transfer_id: BigIntColumn;
  last_transfer_id: BigIntColumn;
  mode: 'embeds' | 'lines';
  nonce: string;
  posted_at: Generated<Timestamp>;
}

export interface MinecraftEventsTable {
  webhook_id: string;
  type: string;
  server: string;
  status: number;
  answer: ColumnType<unknown, string, never>;
  received_at: Generated<Timestamp>;
}

export interface MinecraftLinkCodesTable {
  code: string;
  user_id: BigIntColumn;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface MinecraftRewardDaysTable {
  player_uuid: string;
  day: ColumnType<string, string, string>;
  granted: BigIntColumn;
}

export interface MinecraftQuestCountersTable {
  player_uuid: string;
  counter: string;
  value: BigIntColumn;
  updated_at: Timestamp;
}

export interface MinecraftPlayersTable {
  player_uuid: string;
  name: string;
  online: boolean;
  server: string;
  last_seen_at: Timestamp;
}

export type VoucherState = 'issued' | 'queued' | 'waiting' | 'sending' | 'delivered' | 'failed';

export interface MinecraftVouchersTable {
  id: GeneratedBigInt;
  order_id: BigIntColumn;
  code: string;
  buyer_id: BigIntColumn;
  catalog_item_id: BigIntColumn;
  quantity: number;
  state: Generated<VoucherState>;
  expires_at: Timestamp;
  redeemed_at: NullableTimestamp;
  player_uuid: string | null;
  player_name: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  sending_at: NullableTimestamp;
  delivered_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiTokensTable {
  id: ColumnType<string, string | undefined, never>;
  user_id: BigIntColumn;
  name: string;
  scope: 'read' | 'write';
  created_at: ColumnType<Date, Date | string | undefined, never>;
  expires_at: ColumnType<Date, Date | string, never>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_by: BigIntColumn | null;
}

export interface EconomySettingsTable {
  key: string;
  value: Json;
  updated_at: Generated<Timestamp>;
  updated_by: BigIntColumn | null;
}

export interface ApiIdempotencyTable {
  scope: string;
  key: string;
  request_hash: string;
  status: number | null;
  body: Json;
  created_at: Generated<Timestamp>;
}

export interface StatsCursorTable {
  id: Generated<number>;
  last_id: BigIntColumn;
}

type Counter = ColumnType<string, string | number | undefined, string | number>;

export interface StatsDailyTable {
  day: ColumnType<string, string, string>;
  transfers: Counter;
  minted: Counter;
  burned: Counter;
  fees: Counter;
  market_volume: Counter;
  market_sales: Counter;
  active_users: ColumnType<number, number | undefined, number>;
  net_mint: Counter;
  net_escrow: Counter;
  net_fees: Counter;
  net_burn: Counter;
}

export interface StatsActiveUsersTable {
  day: ColumnType<string, string, string>;
  user_id: BigIntColumn;
}

export interface StatsItemsDailyTable {
  day: ColumnType<string, string, string>;
  item_key: string;
  name: string;
  units: Counter;
  volume: Counter;
}

export interface Database {
  users: UsersTable;
  accounts: AccountsTable;
  transfers: TransfersTable;
  daily_claims: DailyClaimsTable;
  daily_streaks: DailyStreaksTable;
  audit_log: AuditLogTable;
  guild_settings: GuildSettingsTable;
  ledger_checks: LedgerChecksTable;
  feed_cursors: FeedCursorsTable;
  feed_messages: FeedMessagesTable;
  catalog_items: CatalogItemsTable;
  listings: ListingsTable;
  orders: OrdersTable;
  price_sales: PriceSalesTable;
  price_refs: PriceRefsTable;
  quests: QuestsTable;
  minecraft_events: MinecraftEventsTable;
  minecraft_link_codes: MinecraftLinkCodesTable;
  minecraft_reward_days: MinecraftRewardDaysTable;
  minecraft_quest_counters: MinecraftQuestCountersTable;
  minecraft_players: MinecraftPlayersTable;
  minecraft_vouchers: MinecraftVouchersTable;
  api_tokens: ApiTokensTable;
  economy_settings: EconomySettingsTable;
  api_idempotency: ApiIdempotencyTable;
  stats_cursor: StatsCursorTable;
  stats_daily: StatsDailyTable;
  stats_active_users: StatsActiveUsersTable;
  stats_items_daily: StatsItemsDailyTable;
}

/** The market's knobs (economy/settings.ts gives the live ones). */
export interface MarketSettings {
  /** Percent of an order's total that goes to `fees` (rounded down to whole coins). */
  feePct: number;
  floorPct: number;
  ceilingPct: number | null;
  escrowTimeoutMin: number;
  confirmWindowH: number;
  maxActiveListings: number;
  refSales: number;
  refMinSales: number;
  refWindowDays: number;
}

export type CatalogKind = 'discord_role' | 'minecraft_item' | 'other';

/** Catalog kinds that grant something on the server: only official listings may sell them (also enforced by the database). */
export const RESTRICTED_KINDS: readonly CatalogKind[] = ['discord_role', 'minecraft_item'];

export interface CatalogItem {
  id: string;
  name: string;
  kind: CatalogKind;
  description: string | null;
  roleId: string | null;
  minecraftItem: string | null;
  minecraftCommand: string | null;
  basePrice: number;
  active: boolean;
}

export type ListingState = 'active' | 'paused' | 'sold_out' | 'cancelled' | 'removed';

export interface Listing {
  id: string;
  /** Null for an official (admin) listing. */
  sellerId: string | null;
  official: boolean;
  catalogItemId: string | null;
  title: string;
  description: string | null;
  unitPrice: number;
  quantityTotal: number;
  quantityLeft: number;
  state: ListingState;
  guardOverride: boolean;
  shopChannelId: string | null;
  shopMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type OrderState = 'pending' | 'delivered' | 'completed' | 'refunded' | 'disputed';
export type RefundReason =
  | 'seller_cancelled'
  | 'buyer_cancelled'
  | 'admin_refund'
  | 'escrow_expired'
  | 'restricted_item'
  | 'delivery_failed';

export interface Order {
  id: string;
  listingId: string;
  buyerId: string;
  /** Null when the listing is official. */
  sellerId: string | null;
  quantity: number;
  unitPrice: number;
  total: number;
  fee: number;
  state: OrderState;
  holdTransferId: string;
  settleTransferId: string | null;
  refundTransferId: string | null;
  refundReason: RefundReason | null;
  disputeReason: string | null;
  /** When an undelivered order's escrow runs out and it is refunded. */
  expiresAt: Date;
  deliveredAt: Date | null;
  /** When a delivered order completes by itself unless the buyer disputes. */
  confirmDeadline: Date | null;
  completedAt: Date | null;
  refundedAt: Date | null;
  /** When the role-grant job of a `discord_role` order was cleared to add the role; null if it never was. */
  roleGrantedAt: Date | null;
  createdAt: Date;
}

const toNumber = (v: string | number | bigint): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`amount out of range: ${String(v)}`);
  return n;
};

export interface CatalogRow {
  id: string;
  name: string;
  kind: CatalogKind;
  description: string | null;
  role_id: string | null;
  minecraft_item: string | null;
  minecraft_command: string | null;
  base_price: string;
  active: boolean;
}

export const toCatalogItem = (r: CatalogRow): CatalogItem => ({
  id: String(r.id),
  name: r.name,
  kind: r.kind,
  description: r.description,
  roleId: r.role_id,
  minecraftItem: r.minecraft_item,
  minecraftCommand: r.minecraft_command,
  basePrice: toNumber(r.base_price),
  active: r.active,
});

export interface ListingRow {
  id: string;
  seller_id: string | null;
  official: boolean;
  catalog_item_id: string | null;
  title: string;
  description: string | null;
  unit_price: string;
  quantity_total: number;
  quantity_left: number;
  state: ListingState;
  guard_override: boolean;
  shop_channel_id: string | null;
  shop_message_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export const toListing = (r: ListingRow): Listing => ({
  id: String(r.id),
  sellerId: r.seller_id === null ? null : String(r.seller_id),
  official: r.official,
  catalogItemId: r.catalog_item_id === null ? null : String(r.catalog_item_id),
  title: r.title,
  description: r.description,
  unitPrice: toNumber(r.unit_price),
  quantityTotal: r.quantity_total,
  quantityLeft: r.quantity_left,
  state: r.state,
  guardOverride: r.guard_override,
  shopChannelId: r.shop_channel_id,
  shopMessageId: r.shop_message_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface OrderRow {
  id: string;
  listing_id: string;
  buyer_id: string;
  seller_id: string | null;
  quantity: number;
  unit_price: string;
  total: string;
  fee: string;
  state: OrderState;
  hold_transfer_id: string;
  settle_transfer_id: string | null;
  refund_transfer_id: string | null;
  refund_reason: RefundReason | null;
  dispute_reason: string | null;
  expires_at: Date;
  delivered_at: Date | null;
  confirm_deadline: Date | null;
  completed_at: Date | null;
  refunded_at: Date | null;
  role_granted_at: Date | null;
  created_at: Date;
}

const optionalId = (v: string | null) => (v === null ? null : String(v));

export const toOrder = (r: OrderRow): Order => ({
  id: String(r.id),
  listingId: String(r.listing_id),
  buyerId: String(r.buyer_id),
  sellerId: optionalId(r.seller_id),
  quantity: r.quantity,
  unitPrice: toNumber(r.unit_price),
  total: toNumber(r.total),
  fee: toNumber(r.fee),
  state: r.state,
  holdTransferId: String(r.hold_transfer_id),
  settleTransferId: optionalId(r.settle_transfer_id),
  refundTransferId: optionalId(r.refund_transfer_id),
  refundReason: r.refund_reason,
  disputeReason: r.dispute_reason,
  expiresAt: new Date(r.expires_at),
  deliveredAt: r.delivered_at && new Date(r.delivered_at),
  confirmDeadline: r.confirm_deadline && new Date(r.confirm_deadline),
  completedAt: r.completed_at && new Date(r.completed_at),
  refundedAt: r.refunded_at && new Date(r.refunded_at),
  roleGrantedAt: r.role_granted_at && new Date(r.role_granted_at),
  createdAt: new Date(r.created_at),
});

/** Columns selected for an Order, in one place. */
export const ORDER_COLUMNS = [
  'id',
  'listing_id',
  'buyer_id',
  'seller_id',
  'quantity',
  'unit_price',
  'total',
  'fee',
  'state',
  'hold_transfer_id',
  'settle_transfer_id',
  'refund_transfer_id',
  'refund_reason',
  'dispute_reason',
  'expires_at',
  'delivered_at',
  'confirm_deadline',
  'completed_at',
  'refunded_at',
  'role_granted_at',
  'created_at',
] as const;

export const LISTING_COLUMNS = [
  'id',
  'seller_id',
  'official',
  'catalog_item_id',
  'title',
  'description',
  'unit_price',
  'quantity_total',
  'quantity_left',
  'state',
  'guard_override',
  'shop_channel_id',
  'shop_message_id',
  'created_at',
  'updated_at',
] as const;

export const CATALOG_COLUMNS = [
  'id',
  'name',
  'kind',
  'description',
  'role_id',
  'minecraft_item',
  'minecraft_command',
  'base_price',
  'active',
] as const;

import { z } from 'zod';
import type { AuditEntry } from '../../economy/audit.ts';
import type { AuditRow, UserListItem } from '../../economy/admin-reads.ts';
import type { FeedAnnotation, FeedParty, FeedTransfer } from '../../economy/feed.ts';
import type { CatalogItem, Listing, Order } from '../../economy/market/types.ts';
import { iso, isoOrNull } from './openapi.ts';

/** The response schemas of the panel API and the mapping of domain objects onto them, in one place. */

const party = z.object({
  account: z.string(),
  userId: z.string().nullable(),
  discordId: z.string().nullable(),
  name: z.string(),
  frozen: z.boolean(),
  balanceAfter: z.number().nullable(),
});

export const transferSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    kind: z.enum(['single', 'pending', 'post', 'void']),
    state: z.enum(['posted', 'pending', 'voided']),
    reason: z.string(),
    memo: z.string().nullable(),
    amount: z.number(),
    from: party,
    to: party,
    hold: z.object({ id: z.string(), state: z.string().nullable() }).nullable(),
    reverses: z.string().nullable(),
    reversed: z.number(),
    refundable: z.boolean(),
    order: z.object({ id: z.string(), state: z.string() }).nullable(),
    listing: z.object({ id: z.string(), state: z.string() }).nullable(),
    ref: z.record(z.string(), z.unknown()).nullable(),
    actorId: z.string().nullable(),
  })
  .meta({ id: 'Transfer' });

const toParty = (p: FeedParty, balance: number | null) => ({
  account: p.accountId,
  userId: p.userId,
  discordId: p.discordId,
  name: p.name,
  frozen: p.frozen,
  balanceAfter: balance,
});

export const toTransferJson = (t: FeedTransfer): z.infer<typeof transferSchema> => ({
  id: t.id,
  at: iso(t.createdAt),
  kind: t.phase,
  state: t.state,
  reason: t.reason,
  memo: t.memo,
  amount: t.amount,
  from: toParty(t.from, t.fromBalanceAfter),
  to: toParty(t.to, t.toBalanceAfter),
  hold: t.holdId === null ? null : { id: t.holdId, state: t.holdState },
  reverses: t.reversesId,
  reversed: t.reversed,
  refundable: t.refundable,
  order: t.order,
  listing: t.listing,
  ref: t.ref,
  actorId: t.actor?.userId ?? null,
});

export const auditSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actorId: z.string().nullable(),
    actorRole: z.string().nullable(),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
    before: z.unknown(),
    after: z.unknown(),
    reason: z.string().nullable(),
    source: z.enum(['discord', 'panel', 'system', 'cli']),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export const toAuditJson = (a: AuditEntry): z.infer<typeof auditSchema> => ({
  id: a.id,
  at: iso(a.at),
  actorId: a.actorId,
  actorRole: a.actorRole,
  action: a.action,
  target: a.target,
  before: a.before ?? null,
  after: a.after ?? null,
  reason: a.reason,
  source: a.source,
  requestId: a.requestId,
});

export const auditRowSchema = auditSchema
  .extend({ actorDiscordId: z.string().nullable(), actorName: z.string().nullable() })
  .meta({ id: 'AuditRow' });

export const toAuditRowJson = (a: AuditRow): z.infer<typeof auditRowSchema> => ({
  ...toAuditJson(a),
  actorDiscordId: a.actorDiscordId,
  actorName: a.actorName,
});

export const annotationSchema = z.object({
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }),
  actorDiscordId: z.string().nullable(),
  reason: z.string().nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  at: z.string(),
});

export const toAnnotationJson = (a: FeedAnnotation): z.infer<typeof annotationSchema> => ({
  action: a.action,
  target: a.target,
  actorDiscordId: a.actorDiscordId,
  reason: a.reason,
  after: a.after,
  at: iso(a.at),
});

export const userListItemSchema = z
  .object({
    id: z.string(),
    discordId: z.string(),
    username: z.string(),
    globalName: z.string().nullable(),
    balance: z.number(),
    frozen: z.boolean(),
    createdAt: z.string(),
  })
  .meta({ id: 'UserListItem' });

export const toUserListItemJson = (u: UserListItem): z.infer<typeof userListItemSchema> => ({
  ...u,
  createdAt: iso(u.createdAt),
});

export const catalogItemSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['discord_role', 'minecraft_item', 'other']),
    description: z.string().nullable(),
    roleId: z.string().nullable(),
    minecraftItem: z.string().nullable(),
    minecraftCommand: z.string().nullable(),
    basePrice: z.number(),
    active: z.boolean(),
  })
  .meta({ id: 'CatalogItem' });

export const toCatalogJson = (c: CatalogItem): z.infer<typeof catalogItemSchema> => ({ ...c });

export const listingSchema = z
  .object({
    id: z.string(),
    sellerId: z.string().nullable(),
    official: z.boolean(),
    catalogItemId: z.string().nullable(),
    title: z.string(),
    description: z.string().nullable(),
    unitPrice: z.number(),
    quantityTotal: z.number(),
    quantityLeft: z.number(),
    state: z.enum(['active', 'paused', 'sold_out', 'cancelled', 'removed']),
    guardOverride: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Listing' });

export const toListingJson = (l: Listing): z.infer<typeof listingSchema> => ({
  id: l.id,
  sellerId: l.sellerId,
  official: l.official,
  catalogItemId: l.catalogItemId,
  title: l.title,
  description: l.description,
  unitPrice: l.unitPrice,
  quantityTotal: l.quantityTotal,
  quantityLeft: l.quantityLeft,
  state: l.state,
  guardOverride: l.guardOverride,
  createdAt: iso(l.createdAt),
  updatedAt: iso(l.updatedAt),
});

export const orderSchema = z
  .object({
    id: z.string(),
    listingId: z.string(),
    buyerId: z.string(),
    sellerId: z.string().nullable(),
    quantity: z.number(),
    unitPrice: z.number(),
    total: z.number(),
    fee: z.number(),
    state: z.enum(['pending', 'delivered', 'completed', 'refunded', 'disputed']),
    holdTransferId: z.string(),
    settleTransferId: z.string().nullable(),
    refundTransferId: z.string().nullable(),
    refundReason: z.string().nullable(),
    disputeReason: z.string().nullable(),
    expiresAt: z.string(),
    deliveredAt: z.string().nullable(),
    confirmDeadline: z.string().nullable(),
    completedAt: z.string().nullable(),
    refundedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Order' });

export const toOrderJson = (o: Order): z.infer<typeof orderSchema> => ({
  id: o.id,
  listingId: o.listingId,
  buyerId: o.buyerId,
  sellerId: o.sellerId,
  quantity: o.quantity,
  unitPrice: o.unitPrice,
  total: o.total,
  fee: o.fee,
  state: o.state,
  holdTransferId: o.holdTransferId,
  settleTransferId: o.settleTransferId,
  refundTransferId: o.refundTransferId,
  refundReason: o.refundReason,
  disputeReason: o.disputeReason,
  expiresAt: iso(o.expiresAt),
  deliveredAt: isoOrNull(o.deliveredAt),
  confirmDeadline: isoOrNull(o.confirmDeadline),
  completedAt: isoOrNull(o.completedAt),
  refundedAt: isoOrNull(o.refundedAt),
  createdAt: iso(o.createdAt),
});

/** A reason for an admin action; it goes to the audit log. */
export const reasonBody = z.object({ reason: z.string().max(1000) }).strict();
export const optionalReasonBody = z.object({ reason: z.string().max(1000).nullable().optional() }).strict();

/** An ISO date or timestamp in a query. */
export const dateQuery = z.iso
  .datetime({ offset: true })
  .or(z.iso.date())
  .transform((v) => new Date(v));

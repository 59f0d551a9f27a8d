import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { listListings, listOrders, orderById, priceHistory } from '../../economy/admin-reads.ts';
import {
  createCatalogItem,
  listCatalog,
  setCatalogItemActive,
  updateCatalogItem,
  type CatalogInput,
} from '../../economy/market/catalog.ts';
import {
  createListing,
  grantGuardOverride,
  pauseListing,
  removeListing,
  resumeListing,
  updateListing,
} from '../../economy/market/listings.ts';
import { marketFor } from '../../economy/market/market.ts';
import type { Listing } from '../../economy/market/types.ts';
import { liveMarketSettings } from '../../economy/settings.ts';
import { followUpOrder, refreshShopListing } from '../../jobs/market-events.ts';
import type { AppDeps, AppEnv } from '../context.ts';
import { requireIdempotencyKey } from './idempotency.ts';
import { apiGroup, idParam, idPath, iso, jsonBody, jsonResponse } from './openapi.ts';
import { decodeCursor, pageQuery, pageSchema, toPage } from './pagination.ts';
import {
  catalogItemSchema,
  listingSchema,
  orderSchema,
  reasonBody,
  toCatalogJson,
  toListingJson,
  toOrderJson,
} from './schemas.ts';

/** The economy validates catalog input itself (kind-specific fields, the Minecraft command template). */
const catalogBody = z
  .object({
    name: z.string(),
    kind: z.enum(['discord_role', 'minecraft_item', 'other']),
    description: z.string().nullable().optional(),
    basePrice: z.number(),
    active: z.boolean().optional(),
    roleId: z.string().optional(),
    minecraftItem: z.string().optional(),
    /** The console command that delivers the item; placeholders {player} {uuid} {qty}. */
    minecraftCommand: z.string().optional(),
  })
  .meta({ id: 'CatalogItemInput' });

const listingCreateBody = z
  .object({
    catalogItemId: idParam.nullable().optional(),
    title: z.string().optional(),
    description: z.string().nullable().optional(),
    unitPrice: z.number(),
    quantity: z.number(),
    /** List for this player (proceeds go to them) instead of as an official listing. */
    sellerId: idParam.optional(),
    /** Bypass the price guards and the listing cap; the reason is audited. */
    guardOverrideReason: z.string().optional(),
  })
  .strict()
  .meta({ id: 'ListingInput' });

const listingUpdateBody = z
  .object({
    title: z.string().optional(),
    description: z.string().nullable().optional(),
    /** Reprice. */
    unitPrice: z.number().optional(),
    /** Restock: the new total quantity (at least what has been sold). */
    quantityTotal: z.number().optional(),
  })
  .strict()
  .meta({ id: 'ListingUpdate' });

const listingStates = ['active', 'paused', 'sold_out', 'cancelled', 'removed'] as const;
const orderStates = ['pending', 'delivered', 'completed', 'refunded', 'disputed'] as const;

/** /api/market: the catalog, listings (official ones created here), orders and price history. */
export function marketRoutes(deps: AppDeps) {
  const announceListing = async (c: Context<AppEnv>, listing: Listing) => {
    if (!(await refreshShopListing(deps.queues, listing.id, deps.now())))
      c.get('log').warn({ listingId: listing.id }, 'shop message not queued');
    return c.json(toListingJson(listing), 200);
  };

  const orderAction = (kind: 'refund' | 'fulfil') =>
    createRoute({
      method: 'post',
      path: `/market/orders/{id}/${kind}`,
      summary:
        kind === 'refund'
          ? 'Refund an order at any stage (a completed one is reversed); needs Idempotency-Key'
          : 'Complete an order for the seller: escrow to the seller, fee to fees; needs Idempotency-Key',
      middleware: [requireIdempotencyKey(deps.db)] as const,
      request: {
        params: idPath,
        headers: z.object({ 'idempotency-key': z.string() }),
        body: jsonBody(reasonBody),
      },
      responses: jsonResponse(z.object({ changed: z.boolean(), order: orderSchema }), 'The order after it'),
    });

  const listingAction = (action: 'pause' | 'resume') =>
    createRoute({
      method: 'post',
      path: `/market/listings/{id}/${action}`,
      summary: action === 'pause' ? 'Hide a listing from buyers' : 'Show a paused listing again',
      request: { params: idPath },
      responses: jsonResponse(listingSchema, 'The listing after it'),
    });

  const app = apiGroup()
    .openapi(
      createRoute({
        method: 'get',
        path: '/market/catalog',
        summary: 'Every catalog item, by name',
        responses: jsonResponse(z.object({ items: z.array(catalogItemSchema) }), 'The catalog'),
      }),
      async (c) => c.json({ items: (await listCatalog(deps.db)).map(toCatalogJson) }, 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/market/catalog',
        summary:
          'Add a catalog item (generic, a Discord role, or a Minecraft item with its delivery command)',
        request: { body: jsonBody(catalogBody) },
        responses: jsonResponse(catalogItemSchema, 'The new item'),
      }),
      async (c) =>
        c.json(
          toCatalogJson(
            await createCatalogItem(deps.db, c.get('actor'), c.req.valid('json') as CatalogInput),
          ),
          200,
        ),
    )
    .openapi(
      createRoute({
        method: 'put',
        path: '/market/catalog/{id}',
        summary: "Replace a catalog item's definition; open listings keep their price",
        request: { params: idPath, body: jsonBody(catalogBody) },
        responses: jsonResponse(catalogItemSchema, 'The item after it'),
      }),
      async (c) =>
        c.json(
          toCatalogJson(
            await updateCatalogItem(
              deps.db,
              c.get('actor'),
              c.req.valid('param').id,
              c.req.valid('json') as CatalogInput,
            ),
          ),
          200,
        ),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/market/catalog/{id}',
        summary: 'Retire a catalog item: it can no longer be listed (open listings stay)',
        request: { params: idPath },
        responses: jsonResponse(catalogItemSchema, 'The item after it'),
      }),
      async (c) =>
        c.json(
          toCatalogJson(await setCatalogItemActive(deps.db, c.get('actor'), c.req.valid('param').id, false)),
          200,
        ),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/market/catalog/{id}/prices',
        summary: "A catalog item's recent sale prices and the reference price the guards use",
        request: {
          params: idPath,
          query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        },
        responses: jsonResponse(
          z.object({
            catalogItemId: z.string(),
            basePrice: z.number(),
            referencePrice: z.number().nullable(),
            salesCount: z.number(),
            sales: z.array(z.object({ orderId: z.string(), unitPrice: z.number(), completedAt: z.string() })),
          }),
          'The price history',
        ),
      }),
      async (c) => {
        const h = await priceHistory(
          deps.db,
          c.get('actor'),
          c.req.valid('param').id,
          c.req.valid('query').limit,
        );
        return c.json({ ...h, sales: h.sales.map((s) => ({ ...s, completedAt: iso(s.completedAt) })) }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/market/listings',
        summary: 'Listings in any state, newest first, filtered by state, seller, official and catalog item',
        request: {
          query: pageQuery.extend({
            state: z.enum(listingStates).optional(),
            seller: idParam.optional(),
            official: z.enum(['true', 'false']).optional(),
            item: idParam.optional(),
          }),
        },
        responses: jsonResponse(pageSchema(listingSchema), 'A page of listings'),
      }),
      async (c) => {
        const q = c.req.valid('query');
        const rows = await listListings(deps.db, c.get('actor'), {
          state: q.state,
          sellerId: q.seller,
          official: q.official === undefined ? undefined : q.official === 'true',
          catalogItemId: q.item,
          before: decodeCursor(q.cursor),
          limit: q.limit,
        });
        const page = toPage(rows, q.limit, (l) => l.id);
        return c.json({ items: page.items.map(toListingJson), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/market/listings',
        summary: 'Create an official listing (or one for a player with sellerId), posted to #shop',
        request: { body: jsonBody(listingCreateBody) },
        responses: jsonResponse(listingSchema, 'The new listing'),
      }),
      async (c) => {
        const body = c.req.valid('json');
        // Without a seller the API's listing is the server shop's: the economy's `official` listing.
        const input = { ...body, official: body.sellerId === undefined };
        return announceListing(
          c,
          await createListing(deps.db, await liveMarketSettings(deps), c.get('actor'), input),
        );
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/market/listings/{id}',
        summary: 'Reprice, restock or reword a listing',
        request: { params: idPath, body: jsonBody(listingUpdateBody) },
        responses: jsonResponse(listingSchema, 'The listing after it'),
      }),
      async (c) =>
        announceListing(
          c,
          await updateListing(
            deps.db,
            await liveMarketSettings(deps),
            c.get('actor'),
            c.req.valid('param').id,
            c.req.valid('json'),
          ),
        ),
    )
    .openapi(listingAction('pause'), async (c) =>
      announceListing(c, await pauseListing(deps.db, c.get('actor'), c.req.valid('param').id)),
    )
    .openapi(listingAction('resume'), async (c) =>
      announceListing(c, await resumeListing(deps.db, c.get('actor'), c.req.valid('param').id)),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/market/listings/{id}/end',
        summary: 'End a listing (removed from #shop); open orders stay for admins to settle',
        request: { params: idPath, body: jsonBody(reasonBody) },
        responses: jsonResponse(listingSchema, 'The listing after it'),
      }),
      async (c) =>
        announceListing(
          c,
          await removeListing(deps.db, c.get('actor'), c.req.valid('param').id, c.req.valid('json').reason),
        ),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/market/listings/{id}/guard-override',
        summary: "Let a listing's price changes bypass the price guards; audited with the reason",
        request: { params: idPath, body: jsonBody(reasonBody) },
        responses: jsonResponse(listingSchema, 'The listing after it'),
      }),
      async (c) =>
        announceListing(
          c,
          await grantGuardOverride(
            deps.db,
            c.get('actor'),
            c.req.valid('param').id,
            c.req.valid('json').reason,
          ),
        ),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/market/orders',
        summary: 'Orders, newest first, filtered by state, buyer, seller and listing',
        request: {
          query: pageQuery.extend({
            state: z.enum(orderStates).optional(),
            buyer: idParam.optional(),
            seller: idParam.optional(),
            listing: idParam.optional(),
          }),
        },
        responses: jsonResponse(pageSchema(orderSchema), 'A page of orders'),
      }),
      async (c) => {
        const q = c.req.valid('query');
        const rows = await listOrders(deps.db, c.get('actor'), {
          state: q.state,
          buyerId: q.buyer,
          sellerId: q.seller,
          listingId: q.listing,
          before: decodeCursor(q.cursor),
          limit: q.limit,
        });
        const page = toPage(rows, q.limit, (o) => o.id);
        return c.json({ items: page.items.map(toOrderJson), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/market/orders/{id}',
        summary: 'One order',
        request: { params: idPath },
        responses: jsonResponse(orderSchema, 'The order'),
      }),
      async (c) =>
        c.json(toOrderJson(await orderById(deps.db, c.get('actor'), c.req.valid('param').id)), 200),
    );

  for (const kind of ['refund', 'fulfil'] as const) {
    app.openapi(orderAction(kind), async (c) => {
      const market = marketFor(deps);
      const { id } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      const result =
        kind === 'refund'
          ? await market.adminRefund(id, c.get('actor'), reason)
          : await market.adminFulfil(id, c.get('actor'), reason);
      if (result.changed) {
        const event = kind === 'refund' ? 'refunded' : 'completed';
        if (!(await followUpOrder(deps.queues, result.order, event, deps.now(), result.restocked !== null)))
          c.get('log').warn({ orderId: id, event }, 'market follow-up jobs not queued');
      }
      return c.json({ changed: result.changed, order: toOrderJson(result.order) }, 200);
    });
  }
  return app;
}

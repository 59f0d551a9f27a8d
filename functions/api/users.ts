import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { adjustBalance, freezeUser, unfreezeUser, type FreezeResult } from '../../economy/admin.ts';
import { listTransfers, searchUsers, userProfile } from '../../economy/admin-reads.ts';
import type { Actor } from '../../economy/rbac.ts';
import type { AppDeps } from '../context.ts';
import { requireIdempotencyKey } from './idempotency.ts';
import { apiGroup, idPath, iso, isoOrNull, jsonBody, jsonResponse } from './openapi.ts';
import { decodeCursor, pageQuery, pageSchema, toPage } from './pagination.ts';
import {
  auditSchema,
  optionalReasonBody,
  orderSchema,
  reasonBody,
  toAuditJson,
  toOrderJson,
  toTransferJson,
  toUserListItemJson,
  transferSchema,
  userListItemSchema,
} from './schemas.ts';

const profileSchema = z
  .object({
    id: z.string(),
    discordId: z.string(),
    username: z.string(),
    globalName: z.string().nullable(),
    avatar: z.string().nullable(),
    createdAt: z.string(),
    balance: z.number(),
    held: z.number(),
    streak: z.object({ current: z.number(), best: z.number() }),
    frozen: z
      .object({ reason: z.string().nullable(), at: z.string().nullable(), byUserId: z.string().nullable() })
      .nullable(),
    minecraft: z
      .object({ uuid: z.string(), name: z.string().nullable(), linkedAt: z.string().nullable() })
      .nullable(),
    orders: z.array(orderSchema),
    audit: z.array(auditSchema),
  })
  .meta({ id: 'UserProfile' });

const freezeResult = z.object({ changed: z.boolean(), frozen: z.boolean(), audit: auditSchema.nullable() });

/** /api/users: search, profiles, history, adjustments and freezes. */
export function userRoutes(deps: AppDeps) {
  const admin = { db: deps.db, now: deps.now };
  const profile = async (reader: Actor, id: string) => {
    const p = await userProfile(deps.db, reader, id);
    return {
      id: p.id,
      discordId: p.discordId,
      username: p.username,
      globalName: p.globalName,
      avatar: p.avatar,
      createdAt: iso(p.createdAt),
      balance: p.wallet.balance,
      held: p.wallet.held,
      streak: p.wallet.streak,
      frozen: p.frozen && { ...p.frozen, at: isoOrNull(p.frozen.at) },
      minecraft: p.minecraft && { ...p.minecraft, linkedAt: isoOrNull(p.minecraft.linkedAt) },
      orders: p.orders.map(toOrderJson),
      audit: p.audit.map(toAuditJson),
    };
  };
  const freezeAnswer = async (reader: Actor, id: string, r: FreezeResult) => ({
    changed: r.changed,
    frozen: r.frozen,
    audit: r.audit && toAuditJson(r.audit),
    user: await profile(reader, id),
  });

  return apiGroup()
    .openapi(
      createRoute({
        method: 'get',
        path: '/users',
        summary: 'Search users by name (username or display name) or by Coinhub or Discord id',
        request: { query: pageQuery.extend({ q: z.string().max(100).optional() }) },
        responses: jsonResponse(pageSchema(userListItemSchema), 'A page of users, newest first'),
      }),
      async (c) => {
        const { q, cursor, limit } = c.req.valid('query');
        const rows = await searchUsers(deps.db, c.get('actor'), { q, before: decodeCursor(cursor), limit });
        const page = toPage(rows, limit, (u) => u.id);
        return c.json({ items: page.items.map(toUserListItemJson), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/users/{id}',
        summary: 'A user: balance, held coins, streak, frozen state, recent orders and audit',
        request: { params: idPath },
        responses: jsonResponse(profileSchema, 'The profile'),
      }),
      async (c) => c.json(await profile(c.get('actor'), c.req.valid('param').id), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/users/{id}/transfers',
        summary: "A user's transfers, newest first",
        request: { params: idPath, query: pageQuery },
        responses: jsonResponse(pageSchema(transferSchema), 'A page of transfers'),
      }),
      async (c) => {
        const { cursor, limit } = c.req.valid('query');
        const rows = await listTransfers(deps.db, c.get('actor'), {
          userId: c.req.valid('param').id,
          before: decodeCursor(cursor),
          limit,
        });
        const page = toPage(rows, limit, (t) => t.id);
        return c.json({ items: page.items.map(toTransferJson), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/users/{id}/adjust',
        summary:
          'Mint coins into (amount > 0) or burn coins from (amount < 0) a wallet; needs Idempotency-Key',
        middleware: [requireIdempotencyKey(deps.db)] as const,
        request: {
          params: idPath,
          headers: z.object({ 'idempotency-key': z.string() }),
          body: jsonBody(z.object({ amount: z.number().int(), reason: z.string().max(1000) }).strict()),
        },
        responses: jsonResponse(
          z.object({
            transferId: z.string(),
            balanceBefore: z.number(),
            balanceAfter: z.number(),
            user: profileSchema,
          }),
          'The transfer and the user after it',
        ),
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const body = c.req.valid('json');
        const result = await adjustBalance(admin, c.get('actor'), {
          userId: id,
          amount: body.amount,
          reason: body.reason,
          key: `${c.get('actor').userId}:${c.req.header('idempotency-key')!}`,
        });
        return c.json(
          {
            transferId: result.transferId,
            balanceBefore: result.balanceBefore,
            balanceAfter: result.balanceAfter,
            user: await profile(c.get('actor'), id),
          },
          200,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/users/{id}/freeze',
        summary: 'Freeze a wallet: its owner can neither spend nor receive',
        request: { params: idPath, body: jsonBody(reasonBody) },
        responses: jsonResponse(freezeResult.extend({ user: profileSchema }), 'The user after it'),
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const r = await freezeUser(admin, c.get('actor'), { userId: id, reason: c.req.valid('json').reason });
        return c.json(await freezeAnswer(c.get('actor'), id, r), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/users/{id}/unfreeze',
        summary: 'Unfreeze a wallet',
        request: { params: idPath, body: jsonBody(optionalReasonBody) },
        responses: jsonResponse(freezeResult.extend({ user: profileSchema }), 'The user after it'),
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const r = await unfreezeUser(admin, c.get('actor'), {
          userId: id,
          reason: c.req.valid('json').reason ?? null,
        });
        return c.json(await freezeAnswer(c.get('actor'), id, r), 200);
      },
    );
}

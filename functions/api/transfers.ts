import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { noteTransfer, refundTransfer } from '../../economy/admin.ts';
import { listTransfers, transferDetail } from '../../economy/admin-reads.ts';
import type { Actor } from '../../economy/rbac.ts';
import type { AppDeps } from '../context.ts';
import { requireIdempotencyKey } from './idempotency.ts';
import { apiGroup, idParam, idPath, jsonBody, jsonResponse } from './openapi.ts';
import { decodeCursor, pageQuery, pageSchema, toPage } from './pagination.ts';
import {
  annotationSchema,
  auditSchema,
  dateQuery,
  optionalReasonBody,
  toAnnotationJson,
  toAuditJson,
  toTransferJson,
  transferSchema,
} from './schemas.ts';

const detailSchema = z
  .object({ transfer: transferSchema, related: z.array(transferSchema), actions: z.array(annotationSchema) })
  .meta({ id: 'TransferDetail' });

/** /api/transfers: the ledger's history, one transfer with its references, refunds and notes. */
export function transferRoutes(deps: AppDeps) {
  const admin = { db: deps.db, now: deps.now };
  const detail = async (reader: Actor, id: string) => {
    const d = await transferDetail(deps.db, reader, id);
    return {
      transfer: toTransferJson(d.transfer),
      related: d.related.map(toTransferJson),
      actions: d.actions.map(toAnnotationJson),
    };
  };

  return apiGroup()
    .openapi(
      createRoute({
        method: 'get',
        path: '/transfers',
        summary: 'Transfers, newest first, filtered by user, kind, reason and time',
        request: {
          query: pageQuery.extend({
            user: idParam.optional(),
            kind: z.enum(['single', 'pending', 'post', 'void']).optional(),
            reason: z.string().max(64).optional(),
            from: dateQuery.optional(),
            to: dateQuery.optional(),
          }),
        },
        responses: jsonResponse(pageSchema(transferSchema), 'A page of transfers'),
      }),
      async (c) => {
        const q = c.req.valid('query');
        const rows = await listTransfers(deps.db, c.get('actor'), {
          userId: q.user,
          kind: q.kind,
          reason: q.reason,
          from: q.from,
          to: q.to,
          before: decodeCursor(q.cursor),
          limit: q.limit,
        });
        const page = toPage(rows, q.limit, (t) => t.id);
        return c.json({ items: page.items.map(toTransferJson), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/transfers/{id}',
        summary: 'One transfer with the transfers resolving or reversing it and the admin actions on it',
        request: { params: idPath },
        responses: jsonResponse(detailSchema, 'The transfer'),
      }),
      async (c) => c.json(await detail(c.get('actor'), c.req.valid('param').id), 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/transfers/{id}/refund',
        summary: 'Refund a transfer (void a hold or post compensating transfers); needs Idempotency-Key',
        middleware: [requireIdempotencyKey(deps.db)] as const,
        request: {
          params: idPath,
          headers: z.object({ 'idempotency-key': z.string() }),
          body: jsonBody(optionalReasonBody),
        },
        responses: jsonResponse(
          detailSchema.extend({
            changed: z.boolean(),
            outcome: z.enum(['voided', 'reversed', 'already_refunded']),
            transferIds: z.array(z.string()),
            amount: z.number(),
            audit: auditSchema.nullable(),
          }),
          'The refund and the transfer after it',
        ),
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const r = await refundTransfer(admin, c.get('actor'), {
          transferId: id,
          reason: c.req.valid('json').reason ?? null,
        });
        return c.json(
          {
            changed: r.changed,
            outcome: r.outcome,
            transferIds: r.transferIds,
            amount: r.amount,
            audit: r.audit && toAuditJson(r.audit),
            ...(await detail(c.get('actor'), id)),
          },
          200,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/transfers/{id}/notes',
        summary: 'Attach a note to a transfer (shown on its feed entry)',
        request: { params: idPath, body: jsonBody(z.object({ note: z.string().max(1000) }).strict()) },
        responses: jsonResponse(detailSchema.extend({ audit: auditSchema }), 'The transfer after it'),
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const audit = await noteTransfer(admin, c.get('actor'), {
          transferId: id,
          note: c.req.valid('json').note,
        });
        return c.json({ audit: toAuditJson(audit), ...(await detail(c.get('actor'), id)) }, 200);
      },
    );
}

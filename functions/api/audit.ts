import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { listAudit, type AuditFilter, type AuditRow } from '../../economy/admin-reads.ts';
import type { AppDeps } from '../context.ts';
import { apiGroup, errorSchema, idParam, jsonResponse } from './openapi.ts';
import { decodeCursor, pageQuery, pageSchema, toPage } from './pagination.ts';
import { auditRowSchema, dateQuery, toAuditRowJson } from './schemas.ts';

const filterQuery = z.object({
  actor: idParam.optional(),
  targetType: z.string().max(32).optional(),
  targetId: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  from: dateQuery.optional(),
  to: dateQuery.optional(),
});

const CSV_COLUMNS = [
  'id',
  'at',
  'actor_id',
  'actor_discord_id',
  'actor_name',
  'actor_role',
  'action',
  'target_type',
  'target_id',
  'reason',
  'source',
  'request_id',
  'before',
  'after',
] as const;

/** RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet never runs a player's text as a formula. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csvLine = (r: AuditRow) =>
  [
    r.id,
    r.at.toISOString(),
    r.actorId,
    r.actorDiscordId,
    r.actorName,
    r.actorRole,
    r.action,
    r.target?.type,
    r.target?.id,
    r.reason,
    r.source,
    r.requestId,
    r.before,
    r.after,
  ]
    .map(csvField)
    .join(',') + '\r\n';

/** Rows per database read while streaming the CSV export. */
const EXPORT_BATCH = 1000;

/** /api/audit: the audit log, filtered, as JSON pages or one CSV file. */
export function auditRoutes(deps: AppDeps) {
  const toFilter = (q: z.infer<typeof filterQuery>): Omit<AuditFilter, 'limit'> => ({
    actorId: q.actor,
    targetType: q.targetType,
    targetId: q.targetId,
    action: q.action,
    from: q.from,
    to: q.to,
  });

  return apiGroup()
    .openapi(
      createRoute({
        method: 'get',
        path: '/audit',
        summary: 'Audit rows, newest first, filtered by actor, target, action and time',
        request: { query: pageQuery.extend(filterQuery.shape) },
        responses: jsonResponse(pageSchema(auditRowSchema), 'A page of audit rows'),
      }),
      async (c) => {
        const q = c.req.valid('query');
        const rows = await listAudit(deps.db, c.get('actor'), {
          ...toFilter(q),
          before: decodeCursor(q.cursor),
          limit: q.limit,
        });
        const page = toPage(rows, q.limit, (r) => r.id);
        return c.json({ items: page.items.map(toAuditRowJson), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/audit/export.csv',
        summary: 'The filtered audit log as CSV, newest first',
        request: { query: filterQuery },
        responses: {
          200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } },
          default: { description: 'An error', content: { 'application/json': { schema: errorSchema } } },
        },
      }),
      async (c) => {
        const filter = toFilter(c.req.valid('query'));
        const reader = c.get('actor');
        // The permission check and the first page happen before the 200 goes out.
        const first = await listAudit(deps.db, reader, { ...filter, limit: EXPORT_BATCH });
        async function* lines() {
          yield `${CSV_COLUMNS.join(',')}\r\n`;
          let rows = first;
          for (;;) {
            const page = rows.slice(0, EXPORT_BATCH);
            if (page.length > 0) yield page.map(csvLine).join('');
            if (rows.length <= EXPORT_BATCH) return;
            rows = await listAudit(deps.db, reader, {
              ...filter,
              before: page.at(-1)!.id,
              limit: EXPORT_BATCH,
            });
          }
        }
        const encoder = new TextEncoder();
        const source = lines();
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const next = await source.next();
            if (next.done) controller.close();
            else controller.enqueue(encoder.encode(next.value));
          },
          async cancel() {
            await source.return(undefined);
          },
        });
        c.header('Content-Type', 'text/csv; charset=utf-8');
        c.header('Content-Disposition', 'attachment; filename="coinhub-audit.csv"');
        return c.body(body, 200);
      },
    );
}

import { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../context.ts';

/** The error body of every failed /api request. */
export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }).passthrough() })
  .meta({ id: 'Error' });

/** A route group of the panel API: its requests are validated by their zod schemas, failures answered as errors. */
export function apiGroup() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return c.json(
        { error: { code: 'invalid_request', message: `${where}${issue?.message ?? 'Invalid request.'}` } },
        400,
      );
    },
  });
}

/** The responses of a route answering `schema` as JSON with 200; errors are documented once, as `default`. */
export const jsonResponse = <S extends z.ZodType>(schema: S, description: string) => ({
  200: { description, content: { 'application/json': { schema } } },
  default: { description: 'An error', content: { 'application/json': { schema: errorSchema } } },
});

/** A required JSON request body. */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** A database id in a path or query. */
export const idParam = z.string().regex(/^[0-9]{1,18}$/, 'must be an id');
export const idPath = z.object({ id: idParam });

/** ISO timestamps in responses. */
export const iso = (d: Date) => d.toISOString();
export const isoOrNull = (d: Date | null) => (d === null ? null : d.toISOString());

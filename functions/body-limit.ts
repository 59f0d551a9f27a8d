import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './context.ts';

/**
 * 413 for a body over `maxBytes`. A declared Content-Length is checked from the headers alone: hono's
 * bodyLimit reads `c.req.raw.body` first, which makes @hono/node-server build a WHATWG Request and stream for
 * every request, a cost the webhook pays thousands of times a second. A body without a length (chunked) still
 * goes through hono's streaming check.
 */
export function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  const tooLarge: MiddlewareHandler<AppEnv> = async (c) =>
    c.json({ error: { code: 'body_too_large', message: 'Request body is too large.' } }, 413);
  const streaming = bodyLimit({ maxSize: maxBytes, onError: tooLarge as never });
  return async function limitBody(c, next) {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streaming(c, next);
    return Number(length) > maxBytes ? tooLarge(c, next) : next();
  };
}

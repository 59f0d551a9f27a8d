import { webcrypto } from 'node:crypto';
import { verifyKey } from 'discord-interactions';
import type { APIInteraction } from 'discord-api-types/v10';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../context.ts';

/** Discord refuses to retry after this long, and a replayed request older than this is refused here. */
export const MAX_TIMESTAMP_SKEW_S = 300;

const SIGNATURE = /^[0-9a-f]{128}$/i;
const TIMESTAMP = /^\d{1,12}$/;
const snowflake = z.string().regex(/^\d{15,21}$/);
const discordUser = z.looseObject({ id: snowflake, username: z.string().min(1).max(64) });

/**
 * The envelope every interaction shares. Handlers read the rest through discord-api-types; this only proves the
 * body is an interaction (and names a user unless it is a PING) before it is trusted with that type.
 */
const interactionEnvelope = z
  .looseObject({
    id: snowflake,
    application_id: snowflake,
    type: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]),
    token: z.string().min(1).max(500),
    data: z.looseObject({}).optional(),
    member: z
      .looseObject({ user: discordUser, permissions: z.string().regex(/^\d+$/).optional() })
      .optional(),
    user: discordUser.optional(),
  })
  .refine(
    (i) => i.type === 1 || i.member !== undefined || i.user !== undefined,
    'an interaction names its user',
  )
  .refine((i) => i.type === 1 || i.data !== undefined, 'an interaction carries data');

/**
 * The request body as text. Under @hono/node-server it is read straight from Node's request, which spares
 * building a WHATWG Request and stream for every webhook; the route's size limit has checked the declared
 * length already. A body Hono has read (chunked, through the streaming size check) or an in-process call
 * goes through Hono.
 */
async function readBody(c: Context<AppEnv>): Promise<string> {
  const incoming = c.env?.incoming;
  if (!incoming || incoming.readableDidRead) return c.req.text();
  const chunks: Buffer[] = [];
  for await (const chunk of incoming as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const unauthorized = { error: { code: 'bad_signature', message: 'Invalid request signature.' } };

/** Imports the application's public key (hex) once as a WebCrypto Ed25519 key. */
export function importPublicKey(hex: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', Buffer.from(hex, 'hex'), { name: 'Ed25519' }, false, ['verify']);
}

export interface VerifyOptions {
  /** DISCORD_PUBLIC_KEY, 64 hex characters. */
  publicKey: string;
  /** Seconds since the epoch; the real clock, not a test clock, since it guards replays. */
  nowSeconds?: () => number;
}

/**
 * Verifies `X-Signature-Ed25519` over `X-Signature-Timestamp` + the raw body before anything parses it, then
 * parses and checks the envelope. 401 for a missing, invalid or stale signature; 400 for a signed body that is
 * not an interaction. Sets `interaction` on the context.
 */
export function verifyDiscordInteraction(options: VerifyOptions): MiddlewareHandler<AppEnv> {
  const key = importPublicKey(options.publicKey);
  // An unhandled rejection would kill the process before the first request; requests see the failure instead.
  key.catch(() => undefined);
  const nowSeconds = options.nowSeconds ?? (() => Date.now() / 1000);

  return async function verifyDiscordInteraction(c, next) {
    const signature = c.req.header('X-Signature-Ed25519');
    const timestamp = c.req.header('X-Signature-Timestamp');
    if (!signature || !timestamp || !SIGNATURE.test(signature) || !TIMESTAMP.test(timestamp)) {
      return c.json(unauthorized, 401);
    }
    if (Math.abs(nowSeconds() - Number(timestamp)) > MAX_TIMESTAMP_SKEW_S) {
      return c.json(
        { error: { code: 'stale_request', message: 'Request timestamp is too old or too new.' } },
        401,
      );
    }
    const body = await readBody(c);
    if (!(await verifyKey(body, signature, timestamp, await key))) return c.json(unauthorized, 401);

    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return c.json({ error: { code: 'bad_json', message: 'Body is not JSON.' } }, 400);
    }
    const envelope = interactionEnvelope.safeParse(parsed);
    if (!envelope.success) {
      return c.json(
        { error: { code: 'not_an_interaction', message: 'Body is not a Discord interaction.' } },
        400,
      );
    }
    c.set('interaction', parsed as APIInteraction);
    await next();
  };
}

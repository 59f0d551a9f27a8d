import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { SECRET_NAMES } from './env.ts';

const redactPaths = [
  ...SECRET_NAMES,
  ...SECRET_NAMES.map((n) => `*.${n}`),
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'DATABASE_URL',
  '*.DATABASE_URL',
  'REDIS_URL',
  '*.REDIS_URL',
];

/** The token segment of Discord webhook and interaction-callback paths: `/webhooks/<app>/<token>`, `/interactions/<id>/<token>`. */
const TOKEN_IN_PATH = /\/(webhooks|interactions)\/(\d+)\/[^/?#\s"']+/g;

/** `text` with every interaction or webhook token in a Discord URL replaced by `[redacted]`. */
export const redactTokens = (text: string): string => text.replace(TOKEN_IN_PATH, '/$1/$2/[redacted]');

/** Strings anywhere in a log value with their tokens redacted; errors, wherever they sit, serialized as `err`. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactTokens(value);
  if (value instanceof Error) return serializeError(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

/**
 * Errors as pino's standard serializer writes them, but with tokens redacted from every string (a failed
 * interaction-response edit's `DiscordAPIError.url` carries the interaction token) and without the request
 * body the REST client attaches (message contents, OAuth form fields).
 */
function serializeError(err: Error): unknown {
  const serialized: Record<string, unknown> = { ...stdSerializers.err(err) };
  delete serialized.requestBody;
  return scrub(serialized);
}

const errorSerializers = { err: serializeError, error: serializeError };

/**
 * Logger with secrets redacted: secret-named fields censored, interaction and webhook tokens cut out of every
 * URL, connection strings reduced to host and database by `safeUrl`. `destination` is for tests.
 */
export function createLogger(level: string, name = 'coinhub', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: errorSerializers,
    // Runs before the serializers: `err` and `error` stay Errors for serializeError to type and scrub.
    formatters: {
      log: (object: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(object).map(([k, v]) => [k, k in errorSerializers ? v : scrub(v)])),
    },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redactTokens(a) : a)),
        );
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A URL with its credentials removed, for logs. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}

export type { Logger };

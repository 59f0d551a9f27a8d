import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
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

/**
 * Logger with secrets redacted; connection strings are reduced to host and database by `safeUrl`. Lines are JSON,
 * or readable (pino-pretty) when `pretty` is true, by default when standard output is a terminal.
 */
export function createLogger(
  level: string,
  name = 'coinhub',
  { pretty: readable = process.stdout.isTTY } = {},
): Logger {
  const options = { name, level, redact: { paths: redactPaths, censor: '[redacted]' } };
  if (!readable) return pino(options);
  return pino(options, pretty({ sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' }));
}

/**
 * A warning that repeats (a connection refused on every retry) logged at most once per `everyMs` per key; the
 * next line says how many were left out.
 */
export function throttledWarn(log: Logger, everyMs: number) {
  const last = new Map<string, { at: number; skipped: number }>();
  return (key: string, fields: Record<string, unknown>, message: string): void => {
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < everyMs) {
      seen.skipped++;
      return;
    }
    log.warn({ ...fields, ...(seen?.skipped ? { repeated: seen.skipped } : {}) }, message);
    last.set(key, { at: now, skipped: 0 });
  };
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

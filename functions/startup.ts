import type { Logger } from 'pino';

/** Errors that mean "the server is not reachable (yet)", as opposed to a fault worth stopping for. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P03', // the database system is starting up
  '57P01', // terminating connection due to administrator command
]);

/** True when `err` says a server could not be reached, so trying again later may work. */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; errors?: unknown[] } | null;
  if (!e) return false;
  if (e.code && UNREACHABLE_CODES.has(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.some(isUnreachable)) return true; // AggregateError (IPv4 and IPv6)
  return /Connection terminated|Stream isn't writeable|Connection is closed|connect ETIMEDOUT/.test(
    e.message ?? '',
  );
}

export interface BackoffOptions {
  log: Logger;
  /** Whether a failure is worth another attempt; anything else is thrown. */
  retryable?: (err: unknown) => boolean;
  /** Stops waiting (resolves undefined) once this returns true, e.g. on shutdown. */
  stopped?: () => boolean;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs `attempt` until it succeeds, waiting 2 s, 4 s, 8 s … (at most 30 s) between tries and logging one line per
 * failed try that names `what` and the wait. Resolves undefined when `stopped` says so.
 */
export async function withBackoff<T>(
  what: string,
  attempt: () => Promise<T>,
  {
    log,
    retryable = isUnreachable,
    stopped = () => false,
    firstDelayMs = 2000,
    maxDelayMs = 30_000,
  }: BackoffOptions,
): Promise<T | undefined> {
  for (let delay = firstDelayMs, tries = 1; ; delay = Math.min(delay * 2, maxDelayMs), tries++) {
    if (stopped()) return undefined;
    try {
      const result = await attempt();
      if (tries > 1) log.info({ tries }, `${what} is reachable again`);
      return result;
    } catch (err) {
      if (!retryable(err)) throw err;
      const reason = (err as { code?: string; message?: string }).code ?? (err as Error).message;
      log.warn(
        { reason, retryInS: delay / 1000, tries },
        `${what} is unreachable; retrying in ${delay / 1000} s`,
      );
    }
    const until = Date.now() + delay;
    while (Date.now() < until && !stopped())
      await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
  }
}

/** What the process still has to do before it is ready (`/readyz` names it). */
export class StartupSteps {
  private readonly waiting = new Set<string>();

  begin(step: string): void {
    this.waiting.add(step);
  }

  done(step: string): void {
    this.waiting.delete(step);
  }

  pending(): string[] {
    return [...this.waiting];
  }
}

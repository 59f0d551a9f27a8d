import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';

/** A heartbeat older than this many intervals means the worker is stuck or cannot reach its stores. */
export const HEARTBEAT_STALE_INTERVALS = 3;

export interface HeartbeatOptions {
  file: string;
  intervalMs: number;
  /** Resolves when the worker can take jobs right now; rejects (or times out) otherwise. */
  probe: () => Promise<void>;
  log: Logger;
}

export interface Heartbeat {
  /** Stops beating and removes the file, so a stopping worker is no longer reported healthy. */
  stop(): Promise<void>;
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);

/**
 * Writes the current time to `file` every interval while `probe` passes. The container healthcheck reads it
 * (readHeartbeat): a worker whose queues stopped or whose Redis/Postgres went away stops beating.
 */
export async function startHeartbeat(options: HeartbeatOptions): Promise<Heartbeat> {
  const { file, intervalMs, probe, log } = options;
  let healthy: boolean | undefined;
  let running: Promise<void> = Promise.resolve();

  const beat = async () => {
    try {
      await withTimeout(probe(), Math.max(1000, intervalMs / 2));
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, String(Date.now()));
      await rename(tmp, file);
      if (healthy === false) log.info('worker heartbeat resumed');
      healthy = true;
    } catch (err) {
      if (healthy !== false)
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'worker heartbeat missed');
      healthy = false;
    }
  };

  await beat();
  let beating = false;
  const timer = setInterval(() => {
    // A probe that hangs (until its timeout) must not pile up further beats behind it.
    if (beating) return;
    beating = true;
    running = beat().finally(() => {
      beating = false;
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await rm(file, { force: true });
    },
  };
}

/** Reads a heartbeat file; fresh when written less than `maxAgeMs` ago. */
export async function readHeartbeat(
  file: string,
  maxAgeMs: number,
  now = Date.now(),
): Promise<{ fresh: boolean; ageMs?: number; problem?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { fresh: false, problem: `no heartbeat at ${file}` };
  }
  const at = Number(text.trim());
  if (!Number.isFinite(at) || at <= 0) return { fresh: false, problem: `unreadable heartbeat in ${file}` };
  const ageMs = now - at;
  if (ageMs > maxAgeMs)
    return { fresh: false, ageMs, problem: `last heartbeat ${Math.round(ageMs / 1000)}s ago` };
  return { fresh: true, ageMs };
}

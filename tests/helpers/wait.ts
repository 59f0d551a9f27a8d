// Polling for system tests: wait on what a test can observe (a row, a message, a log line), never a fixed sleep.

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or the timeout passes; returns whether it did. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/**
 * Polls `probe` until it returns something (not undefined or false) and returns that; throws on timeout, with
 * `detail()` (e.g. a server's output) in the message when given.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
  detail?: () => string,
): Promise<T> {
  let value: T | undefined;
  const found = await waitFor(async () => {
    value = await probe();
    return value !== undefined && value !== false;
  }, ms);
  if (!found) throw new Error(`timed out waiting for ${what}${detail ? `\n${detail()}` : ''}`);
  return value as T;
}

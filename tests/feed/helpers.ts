import type { FakeMessage } from '../fakes/discord-api.ts';

/** The transfer ids a feed message shows, in order: embed titles `#12 · …` or compact lines `` `#12` … ``. */
export function transferIdsIn(message: Pick<FakeMessage, 'embeds'>): string[] {
  const ids: string[] = [];
  for (const e of message.embeds as { title?: string; description?: string }[]) {
    if (e.title === 'Admin') continue;
    const titled = /^#(\d+) · /.exec(e.title ?? '');
    if (titled) {
      ids.push(titled[1]!);
      continue;
    }
    for (const line of (e.description ?? '').split('\n')) {
      const m = /^`#(\d+)`/.exec(line);
      if (m) ids.push(m[1]!);
    }
  }
  return ids;
}

/** Every transfer id the feed channel shows, message by message. */
export const feedIds = (messages: FakeMessage[]) => messages.flatMap(transferIdsIn);

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

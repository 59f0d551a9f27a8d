import { readFileSync } from 'node:fs';
import type { Config } from './env.ts';

/**
 * The process clock. In tests (NODE_ENV=test) TEST_CLOCK_OFFSET_FILE may name a file holding milliseconds to
 * add to the real time, re-read on every call, so a system test can move a running server to another day.
 */
export function createClock(cfg: Pick<Config, 'NODE_ENV' | 'TEST_CLOCK_OFFSET_FILE'>): () => Date {
  const file = cfg.TEST_CLOCK_OFFSET_FILE;
  if (cfg.NODE_ENV !== 'test' || !file) return () => new Date();
  return () => {
    let offset = 0;
    try {
      offset = Number(readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      // No file yet means no offset.
    }
    return new Date(Date.now() + offset);
  };
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClock } from './clock.ts';

const DAY = 24 * 3600 * 1000;

describe('createClock', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'coinhub-clock-')), 'offset');

  it('in tests, adds the offset in TEST_CLOCK_OFFSET_FILE, re-read on every call', () => {
    const now = createClock({ NODE_ENV: 'test', TEST_CLOCK_OFFSET_FILE: file });
    expect(Math.abs(now().getTime() - Date.now())).toBeLessThan(1000);
    writeFileSync(file, String(3 * DAY));
    expect(now().getTime() - Date.now()).toBeGreaterThan(3 * DAY - 1000);
    writeFileSync(file, 'garbage');
    expect(Math.abs(now().getTime() - Date.now())).toBeLessThan(1000);
  });

  it('ignores the file outside NODE_ENV=test', () => {
    writeFileSync(file, String(3 * DAY));
    const now = createClock({ NODE_ENV: 'production', TEST_CLOCK_OFFSET_FILE: file });
    expect(Math.abs(now().getTime() - Date.now())).toBeLessThan(1000);
  });
});

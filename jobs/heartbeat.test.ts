import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.ts';
import { readHeartbeat, startHeartbeat } from './heartbeat.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'coinhub-heartbeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('worker heartbeat', () => {
  it('beats while the probe passes, stops beating when it fails, and removes the file on stop', async () => {
    const file = path.join(dir, 'beat');
    let healthy = true;
    const heartbeat = await startHeartbeat({
      file,
      intervalMs: 100,
      log,
      probe: async () => {
        if (!healthy) throw new Error('redis is down');
      },
    });
    expect((await readHeartbeat(file, 300)).fresh).toBe(true);

    healthy = false;
    const last = readFileSync(file, 'utf8');
    await sleep(450);
    expect(readFileSync(file, 'utf8')).toBe(last);
    expect(await readHeartbeat(file, 300)).toMatchObject({
      fresh: false,
      problem: expect.stringMatching(/^last heartbeat/),
    });

    healthy = true;
    await sleep(250);
    expect((await readHeartbeat(file, 300)).fresh).toBe(true);

    await heartbeat.stop();
    expect(existsSync(file)).toBe(false);
  });

  it('treats a probe that hangs as a missed beat', async () => {
    const file = path.join(dir, 'hang');
    const heartbeat = await startHeartbeat({
      file,
      intervalMs: 100,
      log,
      probe: () => new Promise(() => undefined),
    });
    expect(existsSync(file)).toBe(false);
    // Ticks during a hung beat are skipped, so stopping waits for one beat at most, not one per tick.
    await sleep(500);
    const stopping = Date.now();
    await heartbeat.stop();
    expect(Date.now() - stopping).toBeLessThan(1500);
    expect(existsSync(file)).toBe(false);
  });

  it('reports a missing or unreadable file', async () => {
    expect(await readHeartbeat(path.join(dir, 'none'), 1000)).toMatchObject({
      fresh: false,
      problem: expect.stringContaining('no heartbeat at'),
    });
    const garbage = path.join(dir, 'garbage');
    writeFileSync(garbage, 'yesterday');
    expect(await readHeartbeat(garbage, 1000)).toMatchObject({
      fresh: false,
      problem: expect.stringContaining('unreadable'),
    });
    writeFileSync(garbage, String(Date.now() - 5000));
    expect((await readHeartbeat(garbage, 1000)).ageMs).toBeGreaterThanOrEqual(5000);
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.ts';
import { until } from '../tests/helpers/wait.ts';
import { readHeartbeat, startHeartbeat } from './heartbeat.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'coinhub-heartbeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger('silent');

describe('worker heartbeat', () => {
  it('beats while the probe passes, stops beating when it fails, and removes the file on stop', async () => {
    const file = path.join(dir, 'beat');
    let healthy = true;
    let failedProbes = 0;
    const heartbeat = await startHeartbeat({
      file,
      intervalMs: 100,
      log,
      probe: async () => {
        if (!healthy) {
          failedProbes++;
          throw new Error('redis is down');
        }
      },
    });
    expect((await readHeartbeat(file, 300)).fresh).toBe(true);

    healthy = false;
    const last = readFileSync(file, 'utf8');
    const stale = await until('the heartbeat to go stale', async () => {
      const beat = await readHeartbeat(file, 300);
      return beat.fresh ? undefined : beat;
    });
    expect(stale).toMatchObject({ fresh: false, problem: expect.stringMatching(/^last heartbeat/) });
    await until('three failed probes', () => failedProbes >= 3 || undefined);
    expect(readFileSync(file, 'utf8')).toBe(last);

    healthy = true;
    await until('the heartbeat to resume', async () => (await readHeartbeat(file, 300)).fresh || undefined);

    await heartbeat.stop();
    expect(existsSync(file)).toBe(false);
  });

  it('treats a probe that hangs as a missed beat', async () => {
    const file = path.join(dir, 'hang');
    const probes: number[] = [];
    const heartbeat = await startHeartbeat({
      file,
      intervalMs: 100,
      log,
      probe: () => {
        probes.push(Date.now());
        return new Promise(() => undefined);
      },
    });
    expect(existsSync(file)).toBe(false);
    // Ticks during a hung beat are skipped: the next probe starts only once the hung one has timed out (1 s),
    // not at the next tick, so stopping waits for one beat at most, not one per tick.
    await until('a probe after a hung one timed out', () => probes.length >= 3 || undefined);
    expect(probes[2]! - probes[1]!).toBeGreaterThanOrEqual(900);
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

import { describe, expect, it } from 'vitest';
import { coalesce } from './coalesce.ts';

describe('coalesce', () => {
  it('answers the calls of one turn with one batch, in order, duplicates included', async () => {
    const batches: number[][] = [];
    const double = coalesce(async (keys: number[]) => {
      batches.push(keys);
      return keys.map((k) => k * 2);
    });
    expect(await Promise.all([double(1), double(2), double(1)])).toEqual([2, 4, 2]);
    expect(await double(5)).toBe(10);
    expect(batches).toEqual([[1, 2, 1], [5]]);
  });

  it('splits a turn into batches of at most maxBatch keys', async () => {
    const sizes: number[] = [];
    const same = coalesce(async (keys: number[]) => {
      sizes.push(keys.length);
      return keys;
    }, 4);
    const keys = Array.from({ length: 10 }, (_, i) => i);
    expect(await Promise.all(keys.map((k) => same(k)))).toEqual(keys);
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('rejects every call of a failed batch, and of a batch answered with the wrong count, and goes on', async () => {
    let mode: 'fail' | 'short' | 'ok' = 'fail';
    const load = coalesce(async (keys: string[]) => {
      if (mode === 'fail') throw new Error('down');
      return mode === 'short' ? keys.slice(1) : keys;
    });
    const failed = await Promise.allSettled([load('a'), load('b')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    mode = 'short';
    await expect(load('c')).rejects.toThrow('a batch of 1 keys got 0 answers');
    mode = 'ok';
    expect(await load('d')).toBe('d');
  });

  it('runs the calls of a failed batch again alone, so only the key that fails is refused', async () => {
    const seen: string[][] = [];
    const load = coalesce(async (keys: string[]) => {
      seen.push(keys);
      if (keys.includes('bad')) throw new Error('bad key');
      return keys.map((k) => k.toUpperCase());
    });
    const results = await Promise.allSettled([load('a'), load('bad'), load('b')]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('bad key') },
      { status: 'fulfilled', value: 'B' },
    ]);
    expect(seen).toEqual([['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
  });
});

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_URL } from './env.ts';

const prefixes = new Set<string>();

/** A Redis key prefix private to the calling test file; its keys are deleted when the file ends. */
export function testRedisPrefix(): string {
  const prefix = `test:${randomBytes(6).toString('hex')}`;
  prefixes.add(prefix);
  return prefix;
}

/** Deletes every key under the prefixes this file made (redis-teardown.ts runs it after the file's own hooks). */
export async function deleteTestRedisKeys(): Promise<void> {
  if (prefixes.size === 0) return;
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    prefixes.clear();
  } finally {
    redis.disconnect();
  }
}

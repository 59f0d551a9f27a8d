import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections. `command` is for request paths (rate limits, publishing, enqueueing): it fails fast when
 * Redis is down so the user gets "try again" instead of a hung interaction. `blocking` is for BullMQ workers,
 * which must wait for Redis forever (maxRetriesPerRequest: null).
 */
export function createRedis(url: string, kind: 'command' | 'blocking', name: string): Redis {
  const options: RedisOptions =
    kind === 'command'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectionName: name, connectTimeout: 2000 }
      : { maxRetriesPerRequest: null, enableReadyCheck: false, connectionName: name };
  const redis = new Redis(url, options);
  // Errors surface on the commands that fail; the client reconnects by itself.
  redis.on('error', () => undefined);
  return redis;
}

import type { Redis } from 'ioredis';
import { coalesce } from '../../db/coalesce.ts';
import { AppError } from '../../economy/errors.ts';

/**
 * For each key in order: INCR and, for the first hit of a window, EXPIRE, as one atomic step; returns the
 * count in this window and the seconds left in it, per key. A key named twice counts twice.
 */
const HIT_SCRIPT = `
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, ARGV[1]) end
  counts[i] = {n, redis.call('TTL', key)}
end
return counts`;

export interface RateLimiter {
  /** Counts one action for `subject`; false when the subject is past its limit for the current window. */
  hit(subject: string): Promise<boolean>;
  /** `hit`, also saying how many seconds remain until the subject's window resets. */
  take(subject: string): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

/**
 * A fixed-window limit per subject in Redis, shared by every API replica; `limits` is read per use, so a changed
 * setting applies at once. The hits of one event-loop turn go to Redis as one script call (keys of one Redis node: Coinhub does not run on Redis Cluster).
 */
export function createRateLimiter(
  redis: Redis,
  options: { prefix: string; limits: () => { limit: number; windowSeconds: number } },
): RateLimiter {
  redis.defineCommand('coinhubRateHits', { lua: HIT_SCRIPT });
  const hitsCommand = (
    redis as unknown as Record<
      string,
      (keyCount: number, ...args: (string | number)[]) => Promise<[number, number][]>
    >
  ).coinhubRateHits!;
  const count = coalesce((subjects: string[]) =>
    hitsCommand.call(
      redis,
      subjects.length,
      ...subjects.map((s) => `${options.prefix}:rl:${s}`),
      options.limits().windowSeconds,
    ),
  );
  const take = async (subject: string) => {
    let n: number;
    let ttl: number;
    try {
      [n, ttl] = await count(subject);
    } catch {
      throw new AppError('unavailable', 'Coinhub is busy right now; please try again in a moment.', 503);
    }
    return { allowed: n <= options.limits().limit, retryAfterSeconds: Math.max(1, ttl) };
  };
  return { take, hit: async (subject) => (await take(subject)).allowed };
}

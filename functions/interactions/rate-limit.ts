import type { Redis } from 'ioredis';
import { AppError } from '../../economy/errors.ts';

/** INCR and, for the first hit of a window, EXPIRE, as one atomic step; returns the count in this window. */
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

export interface RateLimiter {
  /** Counts one action for `subject`; false when the subject is past its limit for the current window. */
  hit(subject: string): Promise<boolean>;
}

/** A fixed-window limit per subject in Redis, shared by every API replica. */
export function createRateLimiter(
  redis: Redis,
  options: { prefix: string; limit: number; windowSeconds: number },
): RateLimiter {
  redis.defineCommand('coinhubRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  const hitCommand = (redis as unknown as Record<string, (key: string, window: number) => Promise<number>>)
    .coinhubRateHit!;
  return {
    async hit(subject) {
      let count: number;
      try {
        count = await hitCommand.call(redis, `${options.prefix}:rl:${subject}`, options.windowSeconds);
      } catch {
        throw new AppError('unavailable', 'Coinhub is busy right now; please try again in a moment.', 503);
      }
      return count <= options.limit;
    },
  };
}

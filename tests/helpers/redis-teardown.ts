import { afterAll } from 'vitest';
import { deleteTestRedisKeys } from './redis.ts';

// A setup file (vitest.config.ts): registered before the test file's own hooks, so it runs after them (after
// hooks run in reverse order), once the servers and workers that wrote under the file's prefixes have stopped.
afterAll(deleteTestRedisKeys);

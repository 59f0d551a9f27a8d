import { randomBytes } from 'node:crypto';

/** Where the tests find the real servers; CI and developers share these defaults. */
export const PG_BASE_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Test databases are named `coinhub_t_<unix seconds>_<kind><random>`, so stale ones can be recognised. */
export const TEST_DB_PREFIX = 'coinhub_t_';
export const testDbName = (kind: string) =>
  `${TEST_DB_PREFIX}${Math.floor(Date.now() / 1000)}_${kind}${randomBytes(5).toString('hex')}`;

export const databaseUrl = (name: string) => `${PG_BASE_URL}/${name}`;

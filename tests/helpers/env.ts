/** Where the tests find the real servers; CI and developers share these defaults. */
export const PG_BASE_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEMPLATE_DB = 'coinhub_test_template';

export const databaseUrl = (name: string) => `${PG_BASE_URL}/${name}`;

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema, parseConfig } from './env.ts';

const minimal = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/coinhub',
  REDIS_URL: 'redis://127.0.0.1:6379',
  DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
  GUILD_ID: '123456789012345678',
};

describe('config', () => {
  it('needs only the database, Redis, the public key and the guild, and is frozen', () => {
    const cfg = parseConfig(minimal);
    expect(cfg).toMatchObject({
      ROLE: 'all',
      PORT: 8787,
      MARKET_FEE: 5,
      DISCORD_API_BASE: 'https://discord.com/api',
    });
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it.each([
    [{ DATABASE_URL: undefined }, 'DATABASE_URL is required'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL must be a URL'],
    [{ DISCORD_PUBLIC_KEY: 'xyz' }, 'DISCORD_PUBLIC_KEY must be 64 hex characters'],
    [{ ROLE: 'web' }, 'ROLE'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DAILY_TIMEZONE: 'Mars/Olympus' }, 'DAILY_TIMEZONE must be an IANA time zone'],
    [{ MARKET_FEE: '99.995' }, 'MARKET_FEE must be below 100'],
    [{ MARKET_FEE: '100' }, 'MARKET_FEE must be below 100'],
    [{ GUILD_ID: undefined }, 'GUILD_ID is required'],
    [{ GUILD_ID: undefined, NODE_ENV: 'production' }, 'GUILD_ID is required'],
    [{ GUILD_ID: 'my-server' }, 'GUILD_ID must be a Discord snowflake'],
  ])('names the bad variable: %o', (patch, message) => {
    expect(() => parseConfig({ ...minimal, ...patch })).toThrow(message);
  });

  it('lets only tests run without GUILD_ID', () => {
    expect(parseConfig({ ...minimal, GUILD_ID: undefined, NODE_ENV: 'test' }).GUILD_ID).toBeUndefined();
  });

  it('reads secrets from NAME_FILE', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'coinhub-'));
    writeFileSync(path.join(dir, 'token'), 'secret-token\n');
    expect(parseConfig({ ...minimal, DISCORD_TOKEN_FILE: path.join(dir, 'token') }).DISCORD_TOKEN).toBe(
      'secret-token',
    );
    expect(() => parseConfig({ ...minimal, JWT_SECRET_FILE: path.join(dir, 'missing') })).toThrow(
      'JWT_SECRET_FILE',
    );
  });

  it('lists every variable in .env.example', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const names = Object.keys(envSchema.shape).filter((n) => n !== 'NODE_ENV');
    for (const name of names) expect(example, name).toMatch(new RegExp(`^${name}=`, 'm'));
  });

  it.each([
    [{ REDIS_URL: 'nope' }, 'REDIS_URL must be a URL starting with redis:// or rediss://'],
    [{ GUILD_ID: undefined }, 'GUILD_ID is required'],
  ])('stops the process with exit 1 and one line naming the variable: %o', (patch, message) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'functions/server.ts'], {
      env: { PATH: process.env.PATH, ...minimal, ...patch },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`coinhub: configuration error: ${message}`]);
  });
});

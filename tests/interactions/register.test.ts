import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../functions/interactions/registry.ts';
import { FakeDiscordApi } from '../fakes/discord-api.ts';
import { TEST_APPLICATION_ID, TEST_GUILD_ID } from '../helpers/interactions.ts';

const run = promisify(execFile);
const NAMES = registry.commands.map((c) => c.definition.name).sort();
const N = NAMES.length;
const TOKEN = 'register-token';
let fake: FakeDiscordApi;
beforeAll(async () => {
  fake = await FakeDiscordApi.start({ token: TOKEN });
});
afterAll(async () => {
  await fake?.close();
});

const register = (args: string[] = [], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/register.ts', ...args], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
      DISCORD_API_BASE: fake.url,
      DISCORD_TOKEN: TOKEN,
      DISCORD_CLIENT_ID: TEST_APPLICATION_ID,
      GUILD_ID: TEST_GUILD_ID,
      ...env,
    },
  });

describe('npm run register', () => {
  it('registers every command for the guild, then reports them unchanged, and updates what changed', async () => {
    const first = await register();
    expect(first.stdout).toMatch(/created {3}\/coins/);
    expect(first.stdout).toContain(
      `${N} commands registered for guild ${TEST_GUILD_ID}: ${N} created, 0 updated, 0 unchanged, 0 removed`,
    );
    const names = fake.commands.get(TEST_GUILD_ID)!.map((c) => c.name);
    expect(names.sort()).toEqual(NAMES);
    expect(NAMES).toEqual(expect.arrayContaining(['card', 'coins', 'daily', 'help', 'pay', 'setup']));
    const setup = fake.commands.get(TEST_GUILD_ID)!.find((c) => c.name === 'setup')!;
    expect(setup.default_member_permissions).toBe('8');
    for (const command of fake.commands.get(TEST_GUILD_ID)!) {
      expect(command, command.name).toMatchObject({ contexts: [0], integration_types: [0] });
    }
    expect(fake.problems).toEqual([]);

    const second = await register();
    expect(second.stdout).toContain(`0 created, 0 updated, ${N} unchanged, 0 removed`);

    // A command edited in Discord by hand, and one that the code no longer has.
    const held = fake.commands.get(TEST_GUILD_ID)!;
    held.find((c) => c.name === 'daily')!.description = 'old text';
    held.push({ id: '1', name: 'legacy', description: 'gone' });
    const third = await register();
    expect(third.stdout).toMatch(/updated {3}\/daily/);
    expect(third.stdout).toMatch(/removed {3}\/legacy/);
    expect(third.stdout).toContain(`0 created, 1 updated, ${N - 1} unchanged, 1 removed`);
  });

  it('registers globally with --global, and names what is missing otherwise', async () => {
    const global = await register(['--global']);
    expect(global.stdout).toContain(`${N} commands registered globally`);
    expect(fake.commands.get('global')).toHaveLength(N);
    await expect(register([], { GUILD_ID: '' })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/GUILD_ID is required/),
    });
    await expect(register([], { DISCORD_TOKEN: '' })).rejects.toMatchObject({
      stderr: expect.stringMatching(/DISCORD_TOKEN/),
    });
  });
});

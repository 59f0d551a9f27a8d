import { DiscordAPIError } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordRest } from '../../discord/rest.ts';
import { FakeDiscordApi, type FakeDiscordOptions } from './fake-api.ts';

const TOKEN = 'fake-token';
const CHANNEL = '920000000000000001';
let fake: FakeDiscordApi;
afterEach(async () => {
  await fake?.close();
});

async function startWithChannel(options: Partial<FakeDiscordOptions> = {}) {
  fake = await FakeDiscordApi.start({ token: TOKEN, ...options });
  fake.addGuild('920000000000000000', [{ id: CHANNEL, name: 'coin-transactions' }]);
  return fake;
}

describe('fake Discord API', () => {
  it('answers 429 past the per-channel message limit, with the body and headers Discord sends', async () => {
    await startWithChannel({ messageRateLimit: { limit: 3, windowMs: 1500 } });
    const post = () =>
      fetch(`${fake.url}/v10/channels/${CHANNEL}/messages`, {
        method: 'POST',
        headers: { authorization: `Bot ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'hi' }),
      });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await post());
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(statuses[2]!.headers.get('x-ratelimit-remaining')).toBe('0');
    const limited = statuses[3]!;
    expect(limited.headers.get('x-ratelimit-limit')).toBe('3');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-bucket')).toBeTruthy();
    const body = (await limited.json()) as { retry_after: number; global: boolean };
    expect(body.global).toBe(false);
    expect(body.retry_after).toBeGreaterThan(0);
    expect(fake.rateLimited).toBe(1);
    expect(fake.channelMessages(CHANNEL)).toHaveLength(3);
  });

  it('@discordjs/rest waits out the limit by itself: every message arrives, in order, no faster than allowed', async () => {
    await startWithChannel({ messageRateLimit: { limit: 5, windowMs: 1000 } });
    const rest = createDiscordRest({ DISCORD_API_BASE: fake.url, DISCORD_TOKEN: TOKEN });
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        rest.post(Routes.channelMessages(CHANNEL), { body: { content: `m${i}` } }),
      ),
    );
    const elapsed = Date.now() - started;
    expect(fake.channelMessages(CHANNEL).map((m) => m.content)).toEqual(
      Array.from({ length: 12 }, (_, i) => `m${i}`),
    );
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(fake.problems).toEqual([]);
  });

  it('refuses a missing or wrong bot token and bodies Discord would refuse, and records them', async () => {
    await startWithChannel();
    const noToken = createDiscordRest({ DISCORD_API_BASE: fake.url, DISCORD_TOKEN: 'wrong' });
    await expect(
      noToken.post(Routes.channelMessages(CHANNEL), { body: { content: 'x' } }),
    ).rejects.toMatchObject({ status: 401 });
    const rest = createDiscordRest({ DISCORD_API_BASE: fake.url, DISCORD_TOKEN: TOKEN });
    const tooLong = rest.post(Routes.channelMessages(CHANNEL), {
      body: { embeds: [{ title: 'x'.repeat(257) }] },
    });
    await expect(tooLong).rejects.toBeInstanceOf(DiscordAPIError);
    await expect(rest.post(Routes.channelMessages(CHANNEL), { body: {} })).rejects.toMatchObject({
      status: 400,
    });
    expect(fake.problems).toEqual([
      expect.stringMatching(/authorization/),
      expect.stringMatching(/title: at most 256/),
      expect.stringMatching(/needs content, embeds or components/),
    ]);
    expect(fake.channelMessages(CHANNEL)).toHaveLength(0);
    expect(fake.calls.map((c) => c.status)).toEqual([401, 400, 400]);
  });

  it('registers application commands by bulk overwrite, keeping ids of unchanged names', async () => {
    await startWithChannel();
    const rest = createDiscordRest({ DISCORD_API_BASE: fake.url, DISCORD_TOKEN: TOKEN });
    const first = (await rest.put(Routes.applicationCommands('1'), {
      body: [{ name: 'coins', description: 'Open the hub' }],
    })) as { id: string }[];
    const second = (await rest.put(Routes.applicationCommands('1'), {
      body: [
        { name: 'coins', description: 'Open the hub' },
        { name: 'daily', description: 'Claim' },
      ],
    })) as { id: string }[];
    expect(second[0]!.id).toBe(first[0]!.id);
    await expect(
      rest.put(Routes.applicationCommands('1'), { body: [{ name: 'Bad Name', description: '' }] }),
    ).rejects.toMatchObject({
      status: 400,
    });
  });
});

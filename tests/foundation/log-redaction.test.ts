/**
 * Interaction tokens are credentials for 15 minutes: a failed response edit must not write one into the logs.
 * The error here is the real one @discordjs/rest throws when a (fake) Discord refuses the edit.
 */
import { Writable } from 'node:stream';
import { Routes } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.ts';
import { createDiscordRest } from '../../discord/rest.ts';
import { FakeDiscordApi } from '../fakes/discord-api.ts';

const APP = '900000000000000002';
const TOKEN = `aW50ZXJhY3Rpb246OTAwMDAwMDAwMDAwMDAwMDA5${'q'.repeat(60)}`;

let discord: FakeDiscordApi;
beforeAll(async () => {
  discord = await FakeDiscordApi.start({ token: 'bot-token' });
  discord.route(
    'PATCH',
    '/webhooks/:app/:token/messages/@original',
    () => ({ status: 404, body: { code: 10015, message: 'Unknown Webhook' } }),
    { bot: false },
  );
});
afterAll(async () => {
  await discord?.close();
});

/** A logger writing JSON lines into `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().trim().split('\n'));
      done();
    },
  });
  return { log: createLogger('info', 'test', sink), lines };
}

describe('tokens in logs', () => {
  it('a failed interaction-response edit is logged with its URL, minus the token', async () => {
    const rest = createDiscordRest({ DISCORD_API_BASE: discord.url, DISCORD_TOKEN: 'bot-token' });
    const err = await rest
      .patch(Routes.webhookMessage(APP, TOKEN), { body: { content: 'done' }, auth: false })
      .then(
        () => undefined,
        (e: unknown) => e as Error & { url: string },
      );
    expect(err?.url).toContain(TOKEN);

    const { log, lines } = capturingLogger();
    log.warn({ err }, 'could not report the setup failure');
    log.warn({ failure: { cause: err } }, 'nested');
    log.info({ url: `${discord.url}/interactions/123456789012345678/${TOKEN}/callback` }, 'posted');
    log.info(`edit of /webhooks/${APP}/${TOKEN}/messages/@original failed`);
    await new Promise((r) => setImmediate(r));

    const output = lines.join('\n');
    expect(lines).toHaveLength(4);
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain('"done"');
    const [first, nested, posted, text] = lines.map((l) => JSON.parse(l));
    expect(first.err).toMatchObject({
      type: 'DiscordAPIError',
      status: 404,
      url: `${discord.url}/v10/webhooks/${APP}/[redacted]/messages/@original`,
    });
    expect(nested.failure.cause.url).toBe(first.err.url);
    expect(posted.url).toBe(`${discord.url}/interactions/123456789012345678/[redacted]/callback`);
    expect(text.msg).toBe(`edit of /webhooks/${APP}/[redacted]/messages/@original failed`);
  });
});

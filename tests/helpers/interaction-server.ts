import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIInteractionResponse } from 'discord-api-types/v10';
import { FakeDiscordApi, type FakeDiscordOptions } from '../fakes/discord-api.ts';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from './db.ts';
import { createDiscordSigner, type DiscordSigner } from './discord-signer.ts';
import { REDIS_URL } from './env.ts';
import { TEST_APPLICATION_ID, TEST_GUILD_ID } from './interactions.ts';
import { startServer, type ServerProcess } from './server-process.ts';

export const TEST_BOT_TOKEN = 'test-bot-token.abc.def';

export interface InteractionServer {
  db: TestDatabase;
  discord: FakeDiscordApi;
  signer: DiscordSigner;
  server: ServerProcess;
  redisPrefix: string;
  /** Signs and POSTs an interaction payload; returns the HTTP status and parsed JSON. */
  send(payload: unknown): Promise<{ status: number; body: APIInteractionResponse & Record<string, unknown> }>;
  /** POSTs raw bytes with the given headers. */
  post(body: string, headers: Record<string, string>): Promise<Response>;
  /** Moves the server's clock (NODE_ENV=test only) by `ms` from real time. */
  setClockOffset(ms: number): void;
  stop(): Promise<void>;
}

/**
 * The system-test rig: a fresh database, a Redis prefix, a fake Discord API and the real server as a child
 * process that trusts a generated signing key and serves TEST_GUILD_ID.
 */
export async function startInteractionServer(
  options: { env?: Record<string, string>; discord?: Partial<FakeDiscordOptions> } = {},
): Promise<InteractionServer> {
  const db = await createTestDatabase(4);
  const discord = await FakeDiscordApi.start({
    token: TEST_BOT_TOKEN,
    botUserId: TEST_APPLICATION_ID,
    ...options.discord,
  });
  const signer = createDiscordSigner();
  const clockFile = path.join(mkdtempSync(path.join(tmpdir(), 'coinhub-clock-')), 'offset');
  writeFileSync(clockFile, '0');
  const redisPrefix = testRedisPrefix();
  const server = await startServer({
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: '10',
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    DISCORD_PUBLIC_KEY: signer.publicKeyHex,
    DISCORD_API_BASE: discord.url,
    DISCORD_TOKEN: TEST_BOT_TOKEN,
    DISCORD_CLIENT_ID: TEST_APPLICATION_ID,
    TEST_CLOCK_OFFSET_FILE: clockFile,
    GUILD_ID: TEST_GUILD_ID,
    ...options.env,
  });
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${server.url}/interactions`, { method: 'POST', body, headers });
  return {
    db,
    discord,
    signer,
    server,
    redisPrefix,
    post,
    async send(payload) {
      const body = JSON.stringify(payload);
      const res = await post(body, signer.signedHeaders(body));
      const text = await res.text();
      if (res.status !== 200) throw new Error(`POST /interactions answered ${res.status}: ${text}`);
      return { status: res.status, body: JSON.parse(text) };
    },
    setClockOffset(ms) {
      writeFileSync(clockFile, String(ms));
    },
    async stop() {
      const code = await server.stop();
      await discord.close();
      await db.drop();
      if (code !== 0) throw new Error(`server exited with ${code}:\n${server.output()}`);
    },
  };
}

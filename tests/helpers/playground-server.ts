import { snowflake } from '../../playground/discord/http.ts';
import { createDiscordSigner, type DiscordSigner } from '../../playground/signer.ts';
import { Playground } from '../../playground/web/playground.ts';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from './db.ts';
import { REDIS_URL } from './env.ts';
import { freePort, startServer, type ServerProcess } from './server-process.ts';

const BOT_TOKEN = 'playground-test-token';
const CLIENT_SECRET = 'playground-test-client-secret';

export interface PlaygroundServer {
  db: TestDatabase;
  playground: Playground;
  server: ServerProcess;
  /** Stops the server (it must exit 0), the playground and drops the database. */
  stop(): Promise<void>;
}

/**
 * The `npm run dev` pair for system tests: a fresh database (seeded by `seed` before the server starts), the
 * playground with its guild and commands, and the real server trusting `signer` and calling the playground as
 * Discord, for interactions and for the panel's OAuth2 login.
 */
export async function startPlaygroundServer({
  signer = createDiscordSigner(),
  applicationId = snowflake(),
  seed,
}: {
  signer?: DiscordSigner;
  applicationId?: string;
  seed?: (db: TestDatabase) => Promise<void>;
} = {}): Promise<PlaygroundServer> {
  const db = await createTestDatabase(4);
  await seed?.(db);
  const port = await freePort();
  const guildId = snowflake();
  const playground = await Playground.start({
    interactionsUrl: `http://127.0.0.1:${port}/interactions`,
    signer,
    applicationId,
    guildId,
    botToken: BOT_TOKEN,
    oauth: { clientSecret: CLIENT_SECRET, redirectUri: `http://127.0.0.1:${port}/auth/discord/callback` },
  });
  await playground.registerCommands();
  const server = await startServer({
    PORT: String(port),
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: '6',
    REDIS_URL,
    REDIS_PREFIX: testRedisPrefix(),
    DISCORD_PUBLIC_KEY: signer.publicKeyHex,
    DISCORD_API_BASE: playground.api.url,
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_CLIENT_ID: applicationId,
    DISCORD_CLIENT_SECRET: CLIENT_SECRET,
    DISCORD_OAUTH_BASE: playground.api.origin,
    PANEL_BASE_URL: `http://127.0.0.1:${port}`,
    SESSION_SECRET: 'playground-test-session-secret',
    JWT_SECRET: 'playground-test-jwt-secret',
    GUILD_ID: guildId,
  });
  return {
    db,
    playground,
    server,
    async stop() {
      const code = await server.stop();
      await playground.close();
      await db.drop();
      if (code !== 0) throw new Error(`server exited with ${code}:\n${server.output()}`);
    },
  };
}

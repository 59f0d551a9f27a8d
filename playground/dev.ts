/**
 * npm run dev: Coinhub (API and worker in one process) plus the playground, a local stand-in for Discord with a
 * web page for one guild, on fixed ports; no Discord application needed. The development signing key, guild and
 * bot token, OAuth2 client secret and the panel's session and JWT secrets are created on first run in .dev/
 * (git-ignored); the playground also serves the OAuth2 login of the panel. Reads .env like `npm start`; the Discord variables
 * are the playground's own.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadDotEnv } from '../config/env.ts';
import { portTaken } from '../functions/port.ts';
import { DEV_DIR, devIdentity, ROOT } from './identity.ts';
import { Playground } from './web/playground.ts';

const DEV_DEFAULTS = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/coinhub_dev',
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_PREFIX: 'coinhub-dev',
};

async function main(): Promise<number> {
  loadDotEnv();
  const port = Number(process.env.PORT || 8787);
  const playgroundPort = Number(process.env.PLAYGROUND_PORT || 8788);
  for (const [name, p] of [
    ['PORT', port],
    ['PLAYGROUND_PORT', playgroundPort],
  ] as const) {
    if (await portTaken(p)) {
      console.error(`dev: port ${p} (${name}) is already in use; stop what runs there or set ${name}`);
      return 1;
    }
  }

  const identity = devIdentity();
  const panelBaseUrl = process.env.PANEL_BASE_URL || `http://localhost:${port}`;
  if (identity.created) console.log(`dev: created a development Discord identity in ${identity.file}`);
  const playground = await Playground.start({
    interactionsUrl: `http://127.0.0.1:${port}/interactions`,
    signer: identity.signer,
    applicationId: identity.applicationId,
    guildId: identity.guildId,
    botToken: identity.botToken,
    port: playgroundPort,
    stateFile: path.join(DEV_DIR, 'playground-guild.json'),
    oauth: {
      clientSecret: identity.clientSecret,
      redirectUri: new URL('/auth/discord/callback', panelBaseUrl).toString(),
    },
  });
  await playground.registerCommands();

  const env = {
    ...DEV_DEFAULTS,
    ...process.env,
    PORT: String(port),
    DISCORD_PUBLIC_KEY: identity.signer.publicKeyHex,
    DISCORD_TOKEN: identity.botToken,
    DISCORD_CLIENT_ID: identity.applicationId,
    DISCORD_CLIENT_SECRET: identity.clientSecret,
    GUILD_ID: identity.guildId,
    DISCORD_API_BASE: playground.api.url,
    DISCORD_OAUTH_BASE: playground.api.origin,
    PANEL_BASE_URL: panelBaseUrl,
    SESSION_SECRET: identity.sessionSecret,
    JWT_SECRET: identity.jwtSecret,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/server.ts'], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));

  const ready = waitForHealth(`http://127.0.0.1:${port}/healthz`, child);
  const code = new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  if (await ready) {
    console.log(
      [
        '',
        `  Playground (Discord for "${identity.guildId}"): ${playground.url}`,
        `  Coinhub:                               http://localhost:${port}  (interactions at /interactions)`,
        `  Panel login:                           ${new URL('/auth/discord/login', panelBaseUrl)}`,
        `  Database: ${new URL(env.DATABASE_URL).pathname.slice(1)}   Redis prefix: ${env.REDIS_PREFIX}`,
        '',
        '  Open the playground, act as Ada (admin) and run /setup channels. Ctrl-C stops both.',
        '',
      ].join('\n'),
    );
  }
  const exitCode = await code;
  await playground.close();
  return exitCode;
}

/** Resolves true once `url` answers, false if the child exits first. */
async function waitForHealth(url: string, child: ReturnType<typeof spawn>): Promise<boolean> {
  while (child.exitCode === null && child.signalCode === null) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`dev: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { snowflake } from './discord/http.ts';
import { createDiscordSigner, type DiscordSigner } from './signer.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Git-ignored; holds the development identity below. */
export const DEV_DIR = path.join(ROOT, '.dev');
const IDENTITY_FILE = path.join(DEV_DIR, 'discord.json');

/**
 * The local Discord `npm run dev` and `npm run discord:send` pretend to be: one signing key, app (with its OAuth2
 * client secret), guild, bot; plus the panel's session and JWT secrets for `npm run dev`.
 */
export interface DevIdentity {
  signer: DiscordSigner;
  applicationId: string;
  guildId: string;
  botToken: string;
  /** The OAuth2 client secret of the development app (the panel's login). */
  clientSecret: string;
  /** The panel's SESSION_SECRET and JWT_SECRET for `npm run dev`. */
  sessionSecret: string;
  jwtSecret: string;
  /** The file it lives in, relative to the repository. */
  file: string;
  /** True when this call created it. */
  created: boolean;
}

interface Stored {
  privateKeyPem: string;
  applicationId: string;
  guildId: string;
  botToken: string;
  /** Absent from identities made before the playground served OAuth2; added on first read. */
  clientSecret?: string;
  sessionSecret?: string;
  jwtSecret?: string;
}

const secret = () => randomBytes(32).toString('base64url');

/** Reads the development identity, creating it (mode 0600) on first use. */
export function devIdentity(): DevIdentity {
  let created = false;
  if (!existsSync(IDENTITY_FILE)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const stored: Stored = {
      privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      applicationId: snowflake(),
      guildId: snowflake(),
      botToken: `dev.${randomBytes(24).toString('base64url')}`,
    };
    mkdirSync(DEV_DIR, { recursive: true });
    writeFileSync(IDENTITY_FILE, JSON.stringify(stored, null, 2), { mode: 0o600 });
    created = true;
  }
  const stored = JSON.parse(readFileSync(IDENTITY_FILE, 'utf8')) as Stored;
  if (!stored.clientSecret || !stored.sessionSecret || !stored.jwtSecret) {
    stored.clientSecret ??= secret();
    stored.sessionSecret ??= secret();
    stored.jwtSecret ??= secret();
    writeFileSync(IDENTITY_FILE, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  const privateKey = createPrivateKey(stored.privateKeyPem);
  return {
    signer: createDiscordSigner({ privateKey, publicKey: createPublicKey(privateKey) }),
    applicationId: stored.applicationId,
    guildId: stored.guildId,
    botToken: stored.botToken,
    clientSecret: stored.clientSecret,
    sessionSecret: stored.sessionSecret,
    jwtSecret: stored.jwtSecret,
    file: path.relative(ROOT, IDENTITY_FILE),
    created,
  };
}

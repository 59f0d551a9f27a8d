/**
 * npm run discord:send -- <command-or-custom_id> [subcommand] [name=value ...] [--user ID] [--admin] [--modal] [--url URL]
 *   [--guild ID]
 *
 * A local stand-in for Discord: builds the interaction Discord would send, signs it with a development key and
 * POSTs it to the running server, then prints the response. The key is created once in .dev/ (git-ignored);
 * start the server with the DISCORD_PUBLIC_KEY this prints. The interaction comes from the server's guild: --guild,
 * else GUILD_ID from the environment, else the tests' guild id. Examples:
 *   npm run discord:send -- /coins
 *   npm run discord:send -- hub:daily --user 123456789012345678
 *   npm run discord:send -- /pay user=223456789012345678 amount=50 note="for the sword"
 *   npm run discord:send -- /setup channels --admin
 *   npm run discord:send -- some:modal title=Sword --modal
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { registry } from '../functions/interactions/registry.ts';
import { createDiscordSigner } from '../tests/helpers/discord-signer.ts';
import {
  buttonClick,
  modalSubmit,
  TEST_GUILD_ID,
  slashCommand,
  type Actor,
  type OptionValue,
} from '../tests/helpers/interactions.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY_FILE = path.join(ROOT, '.dev', 'discord-dev-key.json');
const DEFAULT_USER = '100000000000000001';

function loadSigner() {
  let created = false;
  if (!existsSync(KEY_FILE)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(path.dirname(KEY_FILE), { recursive: true });
    writeFileSync(
      KEY_FILE,
      JSON.stringify({ privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) }),
      {
        mode: 0o600,
      },
    );
    created = true;
  }
  const { privateKeyPem } = JSON.parse(readFileSync(KEY_FILE, 'utf8')) as { privateKeyPem: string };
  const privateKey = createPrivateKey(privateKeyPem);
  const signer = createDiscordSigner({ privateKey, publicKey: createPublicKey(privateKey) });
  if (created) console.error(`Created a development signing key in ${path.relative(ROOT, KEY_FILE)}.`);
  return { signer, created };
}

function parseArgs(argv: string[]) {
  const flags = {
    user: DEFAULT_USER,
    guild: process.env.GUILD_ID || TEST_GUILD_ID,
    admin: false,
    modal: false,
    url: '',
    printKey: false,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--user') flags.user = argv[++i] ?? '';
    else if (arg === '--guild') flags.guild = argv[++i] ?? '';
    else if (arg === '--admin') flags.admin = true;
    else if (arg === '--modal') flags.modal = true;
    else if (arg === '--url') flags.url = argv[++i] ?? '';
    else if (arg === '--print-key') flags.printKey = true;
    else positional.push(arg);
  }
  return { flags, target: positional[0], pairs: positional.slice(1) };
}

/** `name=value` pairs; a bare word first (`/setup roles …`) names the subcommand. */
function keyValues(pairs: string[]): { subcommand?: string; values: Record<string, string> } {
  const values: Record<string, string> = {};
  let subcommand: string | undefined;
  for (const [i, pair] of pairs.entries()) {
    const eq = pair.indexOf('=');
    if (eq < 0 && i === 0) subcommand = pair;
    else if (eq <= 0) throw new Error(`"${pair}" is not name=value`);
    else values[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { subcommand, values };
}

/** Types each option as the command's definition says (user ids become resolved users, integers numbers). */
function commandOptions(
  name: string,
  subcommand: string | undefined,
  raw: Record<string, string>,
): Record<string, OptionValue> {
  const definition = registry.commands.find((c) => c.definition.name === name)?.definition;
  const sub = subcommand ? definition?.options?.find((o) => o.name === subcommand) : undefined;
  const declared = (sub && 'options' in sub ? sub.options : definition?.options) ?? [];
  const out: Record<string, OptionValue> = {};
  for (const [key, value] of Object.entries(raw)) {
    const type = declared.find((o) => o.name === key)?.type;
    if (type === ApplicationCommandOptionType.User) out[key] = { user: { id: value } };
    else if (type === ApplicationCommandOptionType.Integer || type === ApplicationCommandOptionType.Number)
      out[key] = Number(value);
    else if (type === ApplicationCommandOptionType.Boolean) out[key] = value === 'true';
    else out[key] = value;
  }
  return out;
}

async function main(): Promise<number> {
  const { flags, target, pairs } = parseArgs(process.argv.slice(2));
  const { signer, created } = loadSigner();
  if (created || flags.printKey || !target) {
    console.error(`Start the server with DISCORD_PUBLIC_KEY=${signer.publicKeyHex}`);
  }
  if (!target) {
    if (flags.printKey) return 0;
    console.error(
      'usage: npm run discord:send -- <command-or-custom_id> [subcommand] [name=value ...] [--user ID] [--guild ID] [--admin] [--modal]',
    );
    console.error(`commands: ${registry.commands.map((c) => `/${c.definition.name}`).join(' ')}`);
    console.error(`buttons: ${registry.components.map((c) => c.prefix).join(' ')}`);
    return 2;
  }
  const actor: Actor = {
    id: flags.user,
    username: `dev${flags.user.slice(-4)}`,
    admin: flags.admin,
    guildId: flags.guild,
  };
  const isCommand = target.startsWith('/') || (!target.includes(':') && !flags.modal);
  const { subcommand, values } = keyValues(pairs);
  if (subcommand && !isCommand) throw new Error(`"${subcommand}" is not name=value`);
  const name = target.replace(/^\//, '');
  const payload = isCommand
    ? slashCommand(name, actor, commandOptions(name, subcommand, values), subcommand)
    : flags.modal
      ? modalSubmit(target, actor, values)
      : buttonClick(target, actor);

  const url = flags.url || `http://localhost:${process.env.PORT ?? 8787}/interactions`;
  const body = JSON.stringify(payload);
  const res = await fetch(url, { method: 'POST', body, headers: signer.signedHeaders(body) });
  const text = await res.text();
  console.log(`HTTP ${res.status}`);
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
  if (res.status === 401)
    console.error(
      `The server refused the signature; start it with DISCORD_PUBLIC_KEY=${signer.publicKeyHex}`,
    );
  return res.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`discord:send: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

/**
 * npm run discord:send -- <command-or-custom_id> [subcommand] [name=value ...] [flags]
 *
 * Builds the interaction Discord would send, signs it with the development identity in .dev/ (the one
 * `npm run dev` uses; created on first use), POSTs it to the running server and prints the answer readably.
 *
 *   --user ID        who sends it (default 100000000000000001)      --admin       with the Administrator permission
 *   --roles ID,ID    the member's Discord roles                      --json        print the raw answer
 *   --modal          submit a modal: name=value are its fields      --values a,b  pick these values in a select menu
 *   --complete NAME  ask for autocomplete suggestions while typing option NAME
 *   --guild ID       guild_id (default GUILD_ID, else the development guild)
 *   --channel ID     channel_id            --url URL   the server's /interactions (default http://localhost:PORT)
 *   --playground URL where a deferred answer's edit is read (default http://localhost:PLAYGROUND_PORT)
 *   --print-key      print the DISCORD_PUBLIC_KEY that matches the signing key
 *
 * Options are typed as the command declares them: users, roles and channels by id (or <@id>), numbers, booleans.
 * Examples:
 *   npm run discord:send -- /pay user=223456789012345678 amount=50 note="for the sword"
 *   npm run discord:send -- /setup roles role=moderator discord_role=323456789012345678 --admin
 *   npm run discord:send -- /sell item=dia --complete item
 *   npm run discord:send -- feed:pick --values 42 --admin
 */
import { InteractionResponseType, MessageFlags } from 'discord-api-types/v10';
import { loadDotEnv } from '../config/env.ts';
import { registry } from '../functions/interactions/registry.ts';
import { devIdentity } from '../playground/identity.ts';
import {
  commandInteraction,
  componentInteraction,
  modalSubmit,
  OptionError,
  type Actor,
  type Place,
} from '../playground/interactions.ts';
import { causeOf } from '../playground/web/playground.ts';

const DEFAULT_USER = '100000000000000001';
const DEFAULT_CHANNEL = '100000000000000002';
const FOLLOW_UP_WAIT_MS = 15_000;

const USAGE =
  'usage: npm run discord:send -- <command-or-custom_id> [subcommand] [name=value ...] [--user ID] [--admin] ' +
  '[--roles ID,ID] [--modal] [--values a,b] [--complete OPTION] [--guild ID] [--channel ID] [--json] [--url URL]';

class UsageError extends Error {}

function parseArgs(argv: string[]) {
  const flags = {
    user: DEFAULT_USER,
    admin: false,
    roles: [] as string[],
    modal: false,
    json: false,
    values: undefined as string[] | undefined,
    complete: undefined as string | undefined,
    guild: '',
    channel: DEFAULT_CHANNEL,
    url: '',
    playground: '',
    printKey: false,
  };
  const positional: string[] = [];
  const value = (i: number, name: string) => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--user') flags.user = value(++i, arg);
    else if (arg === '--admin') flags.admin = true;
    else if (arg === '--roles') flags.roles = value(++i, arg).split(',').filter(Boolean);
    else if (arg === '--modal') flags.modal = true;
    else if (arg === '--json') flags.json = true;
    else if (arg === '--values') flags.values = value(++i, arg).split(',');
    else if (arg === '--complete') flags.complete = value(++i, arg);
    else if (arg === '--guild') flags.guild = value(++i, arg);
    else if (arg === '--channel') flags.channel = value(++i, arg);
    else if (arg === '--url') flags.url = value(++i, arg);
    else if (arg === '--playground') flags.playground = value(++i, arg);
    else if (arg === '--print-key') flags.printKey = true;
    else if (arg.startsWith('--')) throw new UsageError(`unknown flag ${arg}`);
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
    else if (eq <= 0) throw new UsageError(`"${pair}" is not name=value`);
    else values[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { subcommand, values };
}

type Json = Record<string, unknown>;

/** An embed as a text block. */
function embedText(e: Json): string[] {
  const lines = [
    e.author ? `${(e.author as Json).name}` : null,
    e.title ? `${e.title}` : null,
    e.description ? `${e.description}` : null,
    ...((e.fields as Json[] | undefined) ?? []).map(
      (f) => `${f.name}: ${String(f.value).replace(/\n/g, '\n  ')}`,
    ),
    e.footer ? `${(e.footer as Json).text}` : null,
  ].filter((l): l is string => l !== null);
  return lines
    .flatMap((l) => l.split('\n'))
    .map((l, i, all) => `${i === 0 ? '┌' : i === all.length - 1 ? '└' : '│'} ${l}`);
}

/** A component row: buttons with their custom_ids, select menus with their options. */
function rowText(row: Json): string[] {
  return ((row.components as Json[] | undefined) ?? []).flatMap((c) => {
    if (c.type === 2)
      return [`[${c.label ?? ''}]${c.disabled ? ' (disabled)' : ''} → ${c.url ?? c.custom_id}`];
    if (c.type === 3)
      return [
        `[${c.placeholder ?? 'select'} ▾] → ${c.custom_id} --values …`,
        ...((c.options as Json[] | undefined) ?? []).map((o) => `    ${o.value}: ${o.label}`),
      ];
    return [`(component type ${c.type})`];
  });
}

function messageText(data: Json): string[] {
  return [
    ...(data.content ? [String(data.content)] : []),
    ...((data.embeds as Json[] | undefined) ?? []).flatMap(embedText),
    ...((data.components as Json[] | undefined) ?? []).flatMap(rowText),
  ];
}

/** The answer the way a reader wants it: what kind, then the message, form or suggestions. */
function renderAnswer(answer: { type: number; data?: Json }): string {
  const data = answer.data ?? {};
  const ephemeral = (Number(data.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
  switch (answer.type) {
    case InteractionResponseType.Pong:
      return 'PONG';
    case InteractionResponseType.ChannelMessageWithSource:
      return [`${ephemeral ? 'Only you see this' : 'Posted in the channel'}:`, ...messageText(data)].join(
        '\n',
      );
    case InteractionResponseType.UpdateMessage:
      return ['The clicked message now reads:', ...messageText(data)].join('\n');
    case InteractionResponseType.DeferredChannelMessageWithSource:
      return `Coinhub is thinking…${ephemeral ? ' (only you see this)' : ''}`;
    case InteractionResponseType.DeferredMessageUpdate:
      return 'Acknowledged; the clicked message is edited later.';
    case InteractionResponseType.ApplicationCommandAutocompleteResult: {
      const choices = (data.choices as Json[] | undefined) ?? [];
      return choices.length === 0
        ? 'No suggestions.'
        : ['Suggestions:', ...choices.map((c) => `  ${c.value}: ${c.name}`)].join('\n');
    }
    case InteractionResponseType.Modal: {
      const inputs = ((data.components as Json[] | undefined) ?? []).flatMap(
        (r) => (r.components as Json[]) ?? [],
      );
      return [
        `A form opens: "${data.title}" (submit with: npm run discord:send -- ${data.custom_id} --modal name=value …)`,
        ...inputs.map(
          (i) =>
            `  ${i.custom_id}: ${i.label}${i.required === false ? '' : ' (required)'}${i.value ? ` = ${i.value}` : ''}`,
        ),
      ].join('\n');
    }
    default:
      return `Answer of type ${answer.type}`;
  }
}

/** Reads a deferred answer's edit from the playground; undefined when it is not there or did not come in time. */
async function followUp(playground: string, token: string): Promise<Json | undefined> {
  const deadline = Date.now() + FOLLOW_UP_WAIT_MS;
  while (Date.now() < deadline) {
    let res: Response;
    try {
      res = await fetch(`${playground}/playground/responses/${encodeURIComponent(token)}`);
    } catch {
      return undefined;
    }
    if (!res.ok) return undefined;
    const { edits } = (await res.json()) as { edits: Json[] };
    if (edits.length > 0) return edits[edits.length - 1];
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

async function main(): Promise<number> {
  loadDotEnv();
  const { flags, target, pairs } = parseArgs(process.argv.slice(2));
  const identity = devIdentity();
  if (identity.created) console.error(`Created a development identity in ${identity.file}.`);
  if (identity.created || flags.printKey || !target) {
    console.error(
      `Start the server with DISCORD_PUBLIC_KEY=${identity.signer.publicKeyHex} (npm run dev does this)`,
    );
  }
  if (!target) {
    if (flags.printKey) return 0;
    console.error(USAGE);
    console.error(`commands: ${registry.commands.map((c) => `/${c.definition.name}`).join(' ')}`);
    console.error(`components: ${registry.components.map((c) => c.prefix).join(' ')}`);
    return 2;
  }
  const actor: Actor = {
    id: flags.user,
    username: `dev${flags.user.slice(-4)}`,
    admin: flags.admin,
    roles: flags.roles,
  };
  const at: Place = {
    guildId: flags.guild || process.env.GUILD_ID || identity.guildId,
    channelId: flags.channel,
    applicationId: process.env.DISCORD_CLIENT_ID || identity.applicationId,
  };
  const isCommand = target.startsWith('/') || (!target.includes(':') && !flags.modal);
  const { subcommand, values } = keyValues(pairs);
  if (subcommand && !isCommand) throw new UsageError(`"${subcommand}" is not name=value`);
  let payload;
  if (isCommand) {
    const name = target.replace(/^\//, '');
    const definition = registry.commands.find((c) => c.definition.name === name)?.definition;
    if (!definition)
      throw new UsageError(
        `no command /${name}; try: ${registry.commands.map((c) => `/${c.definition.name}`).join(' ')}`,
      );
    if (flags.complete !== undefined && !(flags.complete in values)) values[flags.complete] = '';
    payload = commandInteraction(definition, actor, { subcommand, values, focused: flags.complete, at });
  } else if (flags.modal) {
    payload = modalSubmit(target, actor, values, at);
  } else {
    payload = componentInteraction(target, actor, { values: flags.values, at });
  }

  const url = flags.url || `http://localhost:${process.env.PORT || 8787}/interactions`;
  const body = JSON.stringify(payload);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers: identity.signer.signedHeaders(body) });
  } catch (err) {
    console.error(
      `discord:send: cannot reach ${url} (${causeOf(err)}); is the server running (npm run dev)?`,
    );
    return 1;
  }
  const text = await res.text();
  if (res.status === 401) {
    console.log(`HTTP 401 ${text}`);
    console.error(
      `The server refused the signature; start it with DISCORD_PUBLIC_KEY=${identity.signer.publicKeyHex}`,
    );
    return 1;
  }
  let answer: { type: number; data?: Json };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    console.log(`HTTP ${res.status}\n${text}`);
    return 1;
  }
  if (flags.json) console.log(`HTTP ${res.status}\n${JSON.stringify(answer, null, 2)}`);
  else console.log(renderAnswer(answer));
  if (!res.ok) return 1;

  if (
    answer.type === InteractionResponseType.DeferredChannelMessageWithSource ||
    answer.type === InteractionResponseType.DeferredMessageUpdate
  ) {
    const playground = flags.playground || `http://localhost:${process.env.PLAYGROUND_PORT || 8788}`;
    const edit = await followUp(playground, payload.token);
    if (!edit) {
      console.error(
        `The answer comes later as an edit through Discord's API; run the server with npm run dev to see it here.`,
      );
    } else if (flags.json) console.log(JSON.stringify(edit, null, 2));
    else console.log(['Then:', ...messageText(edit)].join('\n'));
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof OptionError) {
      console.error(`discord:send: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`discord:send: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

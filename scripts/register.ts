/**
 * npm run register [-- --global]
 * Registers the slash commands of functions/interactions/registry.ts with Discord (for GUILD_ID, where they
 * appear at once, or globally with --global) by bulk overwrite, through the REST client at DISCORD_API_BASE,
 * and prints which commands were created, updated, unchanged or removed.
 */
import { Routes, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { configOrExit } from '../config/env.ts';
import { createDiscordRest } from '../discord/rest.ts';
import { registry } from '../functions/interactions/registry.ts';

type Registered = Record<string, unknown> & { name: string };

/** True when every field we send equals what Discord holds (Discord adds defaults and omits `required: false`). */
function sameAs(wanted: unknown, held: unknown): boolean {
  if (Array.isArray(wanted)) {
    return Array.isArray(held) && held.length === wanted.length && wanted.every((w, i) => sameAs(w, held[i]));
  }
  if (wanted !== null && typeof wanted === 'object') {
    const h = (held ?? {}) as Record<string, unknown>;
    return Object.entries(wanted).every(([key, value]) =>
      key === 'required' && value === false ? !h[key] : sameAs(value, h[key]),
    );
  }
  return String(wanted) === String(held);
}

async function main(): Promise<number> {
  const cfg = configOrExit();
  const global = process.argv.includes('--global');
  const missing = ['DISCORD_TOKEN', 'DISCORD_CLIENT_ID', ...(global ? [] : ['GUILD_ID'])].filter(
    (name) => !cfg[name as keyof typeof cfg],
  );
  if (missing.length > 0) {
    console.error(`register: set ${missing.join(', ')}${global ? '' : ' (or pass --global)'}`);
    return 1;
  }
  const rest = createDiscordRest(cfg);
  const route = global
    ? Routes.applicationCommands(cfg.DISCORD_CLIENT_ID!)
    : Routes.applicationGuildCommands(cfg.DISCORD_CLIENT_ID!, cfg.GUILD_ID!);
  const definitions: RESTPostAPIChatInputApplicationCommandsJSONBody[] = registry.commands.map(
    (c) => c.definition,
  );

  const before = (await rest.get(route)) as Registered[];
  await rest.put(route, { body: definitions });

  const counts = { created: 0, updated: 0, unchanged: 0, removed: 0 };
  for (const def of definitions) {
    const held = before.find((c) => c.name === def.name);
    const state = !held ? 'created' : sameAs(def, held) ? 'unchanged' : 'updated';
    counts[state]++;
    console.log(`${state.padEnd(9)} /${def.name}`);
  }
  for (const gone of before.filter((c) => !definitions.some((d) => d.name === c.name))) {
    counts.removed++;
    console.log(`removed   /${gone.name}`);
  }
  console.log(
    `${definitions.length} commands registered ${global ? 'globally' : `for guild ${cfg.GUILD_ID}`}: ` +
      `${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.removed} removed`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`register: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

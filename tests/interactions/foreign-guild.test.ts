/**
 * One community per installation: for every command, autocomplete, button and modal of the registry, a signed
 * request from another server or from a DM is refused and changes nothing at all — no row in any table, no
 * Redis key (rate limits, queued jobs), no call to Discord.
 */
import {
  ApplicationCommandOptionType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
} from 'discord-api-types/v10';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserByDiscordId } from '../../economy/users.ts';
import { registry } from '../../functions/interactions/registry.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import {
  TEST_GUILD_ID,
  autocomplete,
  buttonClick,
  modalSubmit,
  ping,
  slashCommand,
  type Actor,
} from '../helpers/interactions.ts';

const FOREIGN_GUILD = '910000000000000009';

let rig: InteractionServer;
let redis: Redis;
beforeAll(async () => {
  // ROLE=api: no worker adds its own jobs or keys, so anything new in Redis came from these requests.
  rig = await startInteractionServer({ env: { ROLE: 'api' } });
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await rig?.stop();
});

/** Row count of every table, so a write anywhere shows. */
async function rowCounts(): Promise<Record<string, number>> {
  const { rows: tables } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(rig.db.db);
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const { rows } = await sql<{ n: string }>`select count(*) as n from ${sql.table(name)}`.execute(
      rig.db.db,
    );
    counts[name] = Number(rows[0]!.n);
  }
  return counts;
}

/** Every key under the server's Redis prefix, with its type and size. */
async function redisState(): Promise<string[]> {
  const keys = await redis.keys(`${rig.redisPrefix}:*`);
  const described = await Promise.all(
    keys.map(async (key) => {
      const type = await redis.type(key);
      const size =
        type === 'string'
          ? await redis.get(key)
          : type === 'list'
            ? await redis.llen(key)
            : type === 'zset'
              ? await redis.zcard(key)
              : type === 'hash'
                ? await redis.hlen(key)
                : type === 'set'
                  ? await redis.scard(key)
                  : type === 'stream'
                    ? await redis.xlen(key)
                    : '';
      return `${key} ${type} ${size}`;
    }),
  );
  return described.sort();
}

/** Every kind of interaction the registry answers, as `actor` would send it. */
function everyInteraction(actor: Actor): { label: string; payload: Record<string, unknown> }[] {
  const out: { label: string; payload: Record<string, unknown> }[] = [];
  for (const { definition, autocomplete: suggests } of registry.commands) {
    const sub = definition.options?.find((o) => o.type === ApplicationCommandOptionType.Subcommand)?.name;
    out.push({ label: `/${definition.name}`, payload: slashCommand(definition.name, actor, {}, sub) });
    if (suggests) {
      const option = definition.options!.find((o) => 'autocomplete' in o && o.autocomplete)!;
      out.push({
        label: `/${definition.name} autocomplete`,
        payload: autocomplete(definition.name, actor, option.name, 'sw'),
      });
    }
  }
  for (const { prefix } of registry.components)
    out.push({ label: `button ${prefix}`, payload: buttonClick(`${prefix}:1`, actor) });
  for (const { prefix } of registry.modals)
    out.push({ label: `modal ${prefix}`, payload: modalSubmit(`${prefix}:1`, actor, { title: 'x' }) });
  return out;
}

describe('interactions from outside GUILD_ID', () => {
  it.each([
    ['another server', { guildId: FOREIGN_GUILD }, 'Coinhub is not set up for this server.'],
    ['a DM', { dm: true }, 'Coinhub works only inside its Discord server.'],
  ] as const)(
    'from %s: every command, button and modal is refused and changes nothing',
    async (_, where, refusal) => {
      const actor: Actor = { id: '300000000000000001', admin: true, ...where };
      const cases = everyInteraction(actor);
      expect(cases.length).toBeGreaterThan(registry.commands.length + registry.components.length);
      const rowsBefore = await rowCounts();
      const redisBefore = await redisState();

      for (const { label, payload } of cases) {
        const { status, body } = await rig.send(payload);
        expect(status, label).toBe(200);
        if (payload.type === InteractionType.ApplicationCommandAutocomplete) {
          expect(body, label).toEqual({
            type: InteractionResponseType.ApplicationCommandAutocompleteResult,
            data: { choices: [] },
          });
        } else {
          expect(body, label).toMatchObject({
            type: InteractionResponseType.ChannelMessageWithSource,
            data: { content: refusal, flags: MessageFlags.Ephemeral },
          });
        }
      }

      expect(await rowCounts()).toEqual(rowsBefore);
      expect(await redisState()).toEqual(redisBefore);
      expect(rig.discord.calls).toEqual([]);
    },
  );

  it('still answers PING, and the same request from GUILD_ID is served', async () => {
    expect((await rig.send(ping())).body).toEqual({ type: InteractionResponseType.Pong });
    const member: Actor = { id: '300000000000000002', guildId: TEST_GUILD_ID };
    const { body } = await rig.send(slashCommand('daily', member));
    expect(JSON.stringify(body)).toMatch(/coins/);
    const user = await findUserByDiscordId(rig.db.db, member.id);
    expect(user).toBeDefined();
  });
});

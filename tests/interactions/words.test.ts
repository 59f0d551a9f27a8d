/**
 * The words players and admins read: every command and form is sent bad values (zero, negative, huge, not a
 * number, empty, too long) and no answer may contain a schema path, a zod phrase or an unformatted number; a
 * refusal for lack of coins says the balance.
 */
import { ApplicationCommandOptionType, type APIApplicationCommandOption } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../economy/ledger.ts';
import { createCatalogItem } from '../../economy/market/catalog.ts';
import { createListing } from '../../economy/market/listings.ts';
import { registry } from '../../functions/interactions/registry.ts';
import { buttonClick, commandInteraction, modalSubmit, type Actor } from '../../playground/interactions.ts';
import { fundWallets } from '../helpers/db.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { admin, player as playerActor, settings } from '../market/fixtures.ts';

const player: Actor = { id: '710000000000000001', username: 'player' };
const other: Actor = { id: '710000000000000002', username: 'other' };
const owner: Actor = { id: '710000000000000003', username: 'owner', admin: true };

/** What a user must never read: zod's phrases, schema paths, field names in code case, raw big numbers. */
const MACHINE_WORDS = [
  /too (small|big)/i,
  /expected (a |an )?(number|string|int|integer|boolean|object)/i,
  /invalid (input|type|option|string|enum|union|literal)/i,
  /[<>]=/,
  /\bNaN\b|\bundefined\b|\bnull\b|\[object /,
  /\b[a-z]+[A-Z][A-Za-z]*:/, // unitPrice: …
  /\b\w+\.\w+(\.\w+)*:\s/, // data.options.0: …
  /\d{5,}/, // 10000 rather than 10,000
];

let rig: InteractionServer;
let listingId: string;

beforeAll(async () => {
  rig = await startInteractionServer({ env: { RATE_LIMIT_ACTIONS: '10000' } });
  const ledger = new Ledger(rig.db.db);
  // The players exist once they have used Coinhub; give the player a known balance.
  for (const who of [player, other, owner]) await rig.send(commandInteraction(def('coins'), who));
  const ids = await rig.db.db.selectFrom('users').select(['id', 'discord_id']).execute();
  const idOf = (a: Actor) => String(ids.find((u) => u.discord_id === a.id)!.id);
  await fundWallets(ledger, [idOf(player)], 40);
  await createCatalogItem(rig.db.db, admin(idOf(owner)), {
    name: 'Diamond sword',
    kind: 'other',
    basePrice: 40,
  });
  const listing = await createListing(rig.db.db, settings, playerActor(idOf(other)), {
    title: 'Iron pick',
    description: null,
    unitPrice: 30_000,
    quantity: 2,
  });
  listingId = listing.id;
});

afterAll(async () => {
  await rig?.stop();
});

function def(name: string) {
  return registry.commands.find((c) => c.definition.name === name)!.definition;
}

/** All the text of an answer, with mentions (which hold long ids) taken out. */
function words(body: unknown): string {
  const data = (body as { data?: Record<string, unknown> }).data ?? {};
  const embeds = (data.embeds as Record<string, unknown>[] | undefined) ?? [];
  const parts = [
    data.content,
    ...embeds.flatMap((e) => [
      e.title,
      e.description,
      ...((e.fields as { name: string; value: string }[] | undefined) ?? []).flatMap((f) => [
        f.name,
        f.value,
      ]),
    ]),
  ];
  return parts
    .filter((p): p is string => typeof p === 'string')
    .join('\n')
    .replace(/<(@[!&]?|#)\d+>|<t:\d+(:\w)?>/g, '<mention>');
}

const BAD_NUMBERS = ['0', '-1', '-250', '1000000000000000', '99999999999999999999'];
const BAD_TEXTS = ['x'.repeat(1200), '   '];

/** Values for an option: bad ones for the option under test, harmless ones for the rest. */
function goodValue(o: APIApplicationCommandOption): string | undefined {
  if (o.type === ApplicationCommandOptionType.User) return other.id;
  if (o.type === ApplicationCommandOptionType.Integer || o.type === ApplicationCommandOptionType.Number)
    return '5';
  if (o.type === ApplicationCommandOptionType.Boolean) return 'false';
  if (o.type === ApplicationCommandOptionType.Role) return '710000000000000099';
  if (o.type === ApplicationCommandOptionType.String)
    return 'choices' in o && o.choices?.length ? String(o.choices[0]!.value) : 'a reason';
  return undefined;
}

function badValues(o: APIApplicationCommandOption): string[] {
  if (o.type === ApplicationCommandOptionType.Integer || o.type === ApplicationCommandOptionType.Number)
    return BAD_NUMBERS;
  if (o.type === ApplicationCommandOptionType.String && !('choices' in o && o.choices?.length))
    return BAD_TEXTS;
  return [];
}

describe('player-facing words', () => {
  it('no command answers bad values with a schema path, a zod phrase or a raw number', async () => {
    const offenders: string[] = [];
    let sent = 0;
    for (const { definition } of registry.commands) {
      const subs = (definition.options ?? []).filter(
        (o) => o.type === ApplicationCommandOptionType.Subcommand,
      );
      const shapes = subs.length
        ? subs.map((s) => ({ subcommand: s.name, options: ('options' in s ? s.options : undefined) ?? [] }))
        : [{ subcommand: undefined, options: definition.options ?? [] }];
      for (const shape of shapes) {
        for (const target of shape.options) {
          for (const bad of badValues(target)) {
            const values: Record<string, string> = {};
            for (const o of shape.options) {
              const v = o === target ? bad : o.required ? goodValue(o) : undefined;
              if (v !== undefined) values[o.name] = v;
            }
            for (const actor of [player, owner]) {
              const { body } = await rig.send(
                commandInteraction(definition, actor, { subcommand: shape.subcommand, values }),
              );
              sent++;
              const text = words(body);
              const hit = MACHINE_WORDS.find((re) => re.test(text));
              if (hit)
                offenders.push(
                  `/${definition.name} ${shape.subcommand ?? ''} ${target.name}=${bad.slice(0, 20)}: ${text.slice(0, 200)}`,
                );
            }
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
  });

  it('no form answers bad values with a schema path, a zod phrase or a raw number', async () => {
    const forms: [string, Record<string, string>][] = [];
    for (const bad of [...BAD_NUMBERS, 'abc', '1.5', '', '12 coins']) {
      forms.push(['market:sell', { title: 'Sword', description: '', price: bad, quantity: '1' }]);
      forms.push(['market:sell', { title: 'Sword', description: '', price: '10', quantity: bad }]);
      forms.push([`market:price:${listingId}`, { price: bad }]);
    }
    forms.push(['market:sell', { title: '   ', description: '', price: '10', quantity: '1' }]);
    forms.push([
      'market:sell',
      { title: 'x'.repeat(300), description: 'y'.repeat(3000), price: '10', quantity: '1' },
    ]);
    const offenders: string[] = [];
    for (const [customId, fields] of forms) {
      for (const actor of [player, other]) {
        const { body } = await rig.send(modalSubmit(customId, actor, fields));
        const text = words(body);
        const hit = MACHINE_WORDS.find((re) => re.test(text));
        if (hit) offenders.push(`${customId} ${JSON.stringify(fields).slice(0, 80)}: ${text.slice(0, 200)}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('a refusal for lack of coins says the balance, with numbers written one way', async () => {
    const pay = await rig.send(
      commandInteraction(def('pay'), player, { values: { user: other.id, amount: '5000' } }),
    );
    const confirm = JSON.stringify(pay.body).match(/"(pay:confirm:[^"]+)"/)![1]!;
    const paid = (await rig.send(buttonClick(confirm, player))).body;
    expect(words(paid)).toBe(
      'Payment not sent. Not enough coins: you have 40 coins and that needs 5,000 coins.',
    );

    // Buying 30,000 coins' worth with 40 coins: through the quantity and confirm steps to the refusal.
    let answer = (await rig.send(buttonClick(`market:buy:${listingId}`, player))).body as unknown;
    for (let step = 0; step < 3; step++) {
      const json = JSON.stringify(answer);
      const next = (json.match(/"(market:confirm:[^"]+)"/) ?? json.match(/"(market:qty:[^"]+)"/))?.[1];
      if (!next) break;
      answer = (await rig.send(buttonClick(next, player))).body;
    }
    expect(words(answer)).toBe(
      'Not bought. Not enough coins: you have 40 coins and that needs 30,000 coins.',
    );
  });
});

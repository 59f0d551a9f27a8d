import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogItem } from '../../economy/market/catalog.ts';
import { createListing } from '../../economy/market/listings.ts';
import { devIdentity } from '../../playground/identity.ts';
import { insertUsers } from '../helpers/db.ts';
import { startInteractionServer } from '../helpers/interaction-server.ts';
import { startPlaygroundServer, type PlaygroundServer } from '../helpers/playground-server.ts';
import { freePort } from '../helpers/server-process.ts';
import { admin, player, settings } from '../market/fixtures.ts';

const run = promisify(execFile);

let rig: PlaygroundServer;
let listingId: string;
let send: (args: string[]) => Promise<{ stdout: string; stderr: string }>;

beforeAll(async () => {
  // discord:send signs with the development identity; the server trusts its key, as under `npm run dev`.
  const identity = devIdentity();
  rig = await startPlaygroundServer({
    signer: identity.signer,
    applicationId: identity.applicationId,
    seed: async (t) => {
      const [boss, seller] = await insertUsers(t.db, 2, 980_000_000_000_000_000n);
      await createCatalogItem(t.db, admin(String(boss!.id)), {
        name: 'Diamond sword',
        kind: 'other',
        basePrice: 40,
      });
      const listing = await createListing(t.db, settings, player(String(seller!.id)), {
        title: 'Iron pick',
        description: null,
        unitPrice: 25,
        quantity: 1,
      });
      listingId = listing.id;
    },
  });
  const { playground, server } = rig;
  send = (args) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/discord-send.ts', ...args], {
      env: {
        PATH: process.env.PATH,
        GUILD_ID: playground.guildId,
        PORT: String(server.port),
        PLAYGROUND_PORT: new URL(playground.url).port,
      },
    });
});

afterAll(async () => {
  await rig?.stop();
});

describe('npm run discord:send', () => {
  it('signs with the development identity and renders answers: text, embeds, buttons with their custom_ids', async () => {
    const daily = await send(['/daily', '--user', '700000000000000001']);
    expect(daily.stdout).toMatch(/^Only you see this:/);
    expect(daily.stdout).toContain('+100 coins');

    const pay = await send([
      '/pay',
      'user=700000000000000002',
      'amount=30',
      'note=thanks',
      '--user',
      '700000000000000001',
    ]);
    const confirmId = /→ (pay:confirm:\S+)/.exec(pay.stdout)![1]!;
    const confirm = await send([confirmId, '--user', '700000000000000001']);
    expect(confirm.stdout).toContain('Payment sent');

    const card = await send([
      '/card',
      'user=700000000000000001',
      '--user',
      '700000000000000002',
      '--admin',
      '--json',
    ]);
    expect(card.stdout).toMatch(/^HTTP 200/);
    expect(card.stdout).toContain('"value": "70 coins"');
  });

  it('sends role options, --roles, select values and autocomplete', async () => {
    const roles = await send([
      '/setup',
      'roles',
      'role=moderator',
      'discord_role=323456789012345678',
      '--admin',
    ]);
    expect(roles.stdout).toContain('**moderator**: <@&323456789012345678>');
    // A member holding that role is a moderator now: the feed's refund needs one.
    const audit = await send(['/audit', '--user', '700000000000000009', '--roles', '323456789012345678']);
    expect(audit.stdout).not.toMatch(/You need a Coinhub role/);

    const suggestions = await send(['/sell', 'item=diam', '--complete', 'item']);
    expect(suggestions.stdout).toMatch(/^Suggestions:\n {2}\d+: Diamond sword \(base 40 coins\)/);

    const opened = await send(['market:open', '--values', listingId, '--user', '700000000000000003']);
    expect(opened.stdout).toContain('Iron pick');
    expect(opened.stdout).toContain(`→ market:buy:${listingId}`);
  });

  it('waits for a deferred answer and shows what Coinhub edited it to', async () => {
    const setup = await send(['/setup', 'channels', '--admin']);
    expect(setup.stdout).toMatch(/^Coinhub is thinking… \(only you see this\)\nThen:\nCoinhub is set up\./);
  });

  it('says which key to start the server with when the signature is refused, and names an unreachable URL', async () => {
    const other = await startInteractionServer();
    try {
      await expect(send(['/coins', '--url', `${other.server.url}/interactions`])).rejects.toMatchObject({
        stdout: expect.stringMatching(/^HTTP 401/),
        stderr: expect.stringContaining(`DISCORD_PUBLIC_KEY=${devIdentity().signer.publicKeyHex}`),
      });
    } finally {
      await other.stop();
    }
    const nowhere = `http://127.0.0.1:${await freePort()}/interactions`;
    await expect(send(['/coins', '--url', nowhere])).rejects.toMatchObject({
      stderr: expect.stringContaining(`cannot reach ${nowhere} (ECONNREFUSED)`),
    });
    await expect(send(['/pay', 'amount=lots'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('amount must be a number, not "lots"'),
    });
  });
});

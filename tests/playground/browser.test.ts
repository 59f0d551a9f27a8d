import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogItem } from '../../economy/market/catalog.ts';
import type { Playground } from '../../playground/web/playground.ts';
import { balanceOf, insertUsers, type TestDatabase } from '../helpers/db.ts';
import { startPlaygroundServer, type PlaygroundServer } from '../helpers/playground-server.ts';
import { admin } from '../market/fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';

let rig: PlaygroundServer;
let playground: Playground;
let db: TestDatabase;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  rig = await startPlaygroundServer({
    seed: async (t) => {
      const [boss] = await insertUsers(t.db, 1, 990_000_000_000_000_000n);
      await createCatalogItem(t.db, admin(String(boss!.id)), {
        name: 'Diamond sword',
        kind: 'other',
        basePrice: 40,
      });
    },
  });
  ({ playground, db } = rig);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await rig?.stop();
});

const actAs = (key: string) => page.selectOption('#member', key);
const openChannel = (name: string) => page.click(`#channels a[data-channel="${name}"]`);
const messages = () => page.locator('#messages');

/** Types `/name` into the command box and picks it from the suggestions. */
async function startCommand(name: string) {
  await page.fill('#command-input', `/${name}`);
  await page.click(`#suggestions [data-command="${name}"]`);
}

async function discordIdOf(key: string): Promise<string> {
  return playground.members.find((m) => m.key === key)!.id;
}

async function walletOf(key: string): Promise<number> {
  const user = await db.db
    .selectFrom('users')
    .select('id')
    .where('discord_id', '=', await discordIdOf(key))
    .executeTakeFirstOrThrow();
  return balanceOf(db.db, String(user.id));
}

describe('the playground in Chromium', () => {
  it('sets up the guild, claims, sells with autocomplete and a modal, and buys from #shop', async () => {
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`${playground.url}/?member=ada`);

    // The admin runs /setup channels: a deferred answer that the setup job edits.
    await startCommand('setup');
    await page.selectOption('select[name=subcommand]', 'channels');
    await page.click('#send-command');
    await expect.poll(() => messages().innerText(), { timeout: 20_000 }).toContain('Coinhub is set up.');
    await expect
      .poll(() => page.locator('#channels a').allInnerTexts())
      .toEqual(['# general', '# coin-hub', '# shop', '# leaderboard', '# coin-transactions🔒']);

    // A player sees the hub but not the admins' channel, and claims the daily reward privately.
    await actAs('alex');
    await expect
      .poll(() => page.locator('#channels a').allInnerTexts())
      .not.toContain('# coin-transactions🔒');
    // Discord offers a member only the commands their permissions allow: no /setup for a player.
    await page.fill('#command-input', '/s');
    await expect.poll(() => page.locator('#suggestions [data-command]').count()).toBeGreaterThan(0);
    const offered = await page
      .locator('#suggestions [data-command]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-command')));
    expect(offered).toContain('sell');
    expect(offered).not.toContain('setup');
    await page.fill('#command-input', '');
    await openChannel('coin-hub');
    await page.click('button[data-custom-id="hub:daily"]');
    await expect.poll(() => messages().innerText()).toContain('+100 coins');
    expect(await walletOf('alex')).toBe(100);
    await actAs('sam');
    await openChannel('coin-hub');
    await expect.poll(() => messages().innerText()).toContain('Coin Hub');
    expect(await messages().innerText()).not.toContain('+100 coins');
    await page.click('button[data-custom-id="hub:daily"]');
    await expect.poll(() => messages().innerText()).toContain('+100 coins');

    // Alex sells a catalog item: autocomplete suggests it, the modal opens prefilled, #shop shows the listing.
    await actAs('alex');
    await startCommand('sell');
    await page.fill('input[data-option="item"]', 'diam');
    await page.click('#command-form .choices >> text=Diamond sword');
    await page.click('#send-command');
    await expect.poll(() => page.locator('dialog#modal h2').textContent()).toBe('Sell Diamond sword');
    await page.fill('#modal-price', '30');
    await page.fill('#modal-quantity', '1');
    await page.click('dialog#modal button[type=submit]');
    await openChannel('shop');
    const buy = page.locator('#messages button', { hasText: 'Buy' }).first();
    await expect.poll(() => buy.count(), { timeout: 20_000 }).toBe(1);

    // Sam buys it from #shop: a private confirm prompt, then the coins go to escrow.
    await actAs('sam');
    await openChannel('shop');
    await page.locator('#messages button', { hasText: 'Buy' }).first().click();
    await page.locator('#messages button', { hasText: 'Confirm' }).click();
    await expect.poll(() => messages().innerText()).toMatch(/order #\d+/i);
    expect(await walletOf('sam')).toBe(70);
    expect(problems).toEqual([]);
    expect(playground.api.problems).toEqual([]);
  });
});

/**
 * A listing has one #shop message: two refresh jobs racing, or a retry after a crash between Discord's answer
 * and saving the message id, must not leave a second, never-updated message with a live Buy button.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/env.ts';
import { createDiscordRest } from '../../discord/rest.ts';
import { createListing, getListing } from '../../economy/market/listings.ts';
import { handleShopRefresh } from '../../jobs/handlers/market-discord.ts';
import { FakeDiscordApi } from '../fakes/discord-api.ts';
import { createTestDatabase, fundedUsers, type TestDatabase } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { TEST_APPLICATION_ID, TEST_GUILD_ID } from '../helpers/interactions.ts';
import { player, settings } from './fixtures.ts';

const SHOP = '910000000000000001';
const TOKEN = 'shop-bot-token';
let t: TestDatabase;
let discord: FakeDiscordApi;
let deps: Parameters<typeof handleShopRefresh>[0];
let seller: string;

beforeAll(async () => {
  t = await createTestDatabase(6);
  discord = await FakeDiscordApi.start({ token: TOKEN, botUserId: TEST_APPLICATION_ID });
  discord.addGuild(TEST_GUILD_ID, [{ id: SHOP, name: 'shop', type: 0 }]);
  await t.db
    .insertInto('guild_settings')
    .values({ guild_id: TEST_GUILD_ID, shop_channel_id: SHOP })
    .execute();
  const cfg = parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: t.url,
    REDIS_URL,
    DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
    GUILD_ID: TEST_GUILD_ID,
    DISCORD_API_BASE: discord.url,
    DISCORD_TOKEN: TOKEN,
  });
  deps = { cfg, db: t.db, rest: createDiscordRest(cfg) };
  [seller] = (await fundedUsers(t.db, 1, 0)) as [string];
});

afterAll(async () => {
  await discord?.close();
  await t?.drop();
});

const listingNamed = (title: string) =>
  createListing(t.db, settings, player(seller), { title, unitPrice: 40, quantity: 2 });
const postsFor = (title: string) =>
  discord.channelMessages(SHOP).filter((m) => JSON.stringify(m.embeds).includes(title));

describe('#shop posts', () => {
  it('two refreshes racing for a new listing post one message, and both record it', async () => {
    const listing = await listingNamed('Racing boots');
    const results = await Promise.all([
      handleShopRefresh(deps, { listingId: listing.id }),
      handleShopRefresh(deps, { listingId: listing.id }),
    ]);
    expect(results.every((r) => r.posted)).toBe(true);
    const posts = postsFor('Racing boots');
    expect(posts).toHaveLength(1);
    expect((await getListing(t.db, listing.id))?.shopMessageId).toBe(posts[0]!.id);
    expect(discord.problems).toEqual([]);
  });

  it('a retry after a crash between the post and saving its id finds the same message', async () => {
    const listing = await listingNamed('Crash helmet');
    await handleShopRefresh(deps, { listingId: listing.id });
    const [posted] = postsFor('Crash helmet');
    // As if the worker died after Discord answered: the id never reached the database.
    await t.db
      .updateTable('listings')
      .set({ shop_message_id: null, shop_channel_id: null })
      .where('id', '=', listing.id)
      .execute();

    await handleShopRefresh(deps, { listingId: listing.id });
    expect(postsFor('Crash helmet')).toHaveLength(1);
    expect((await getListing(t.db, listing.id))?.shopMessageId).toBe(posted!.id);
  });

  it('a message deleted in Discord is posted again while the listing is on sale', async () => {
    const listing = await listingNamed('Lost map');
    await handleShopRefresh(deps, { listingId: listing.id });
    const [first] = postsFor('Lost map');
    await deps.rest.delete(`/channels/${SHOP}/messages/${first!.id}`);

    const again = await handleShopRefresh(deps, { listingId: listing.id });
    expect(again).toEqual({ posted: true, edited: false });
    const [second] = postsFor('Lost map');
    expect(second!.id).not.toBe(first!.id);
    expect((await getListing(t.db, listing.id))?.shopMessageId).toBe(second!.id);
  });
});

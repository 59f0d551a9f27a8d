import type { APIEmbed, APIInteractionResponseCallbackData } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../../economy/ledger-check.ts';
import { Ledger, SYSTEM_ACCOUNTS } from '../../economy/ledger.ts';
import { listingsCommand } from '../../functions/interactions/commands/listings.ts';
import { ordersCommand } from '../../functions/interactions/commands/orders.ts';
import { sellCommand } from '../../functions/interactions/commands/sell.ts';
import { shopCommand } from '../../functions/interactions/commands/shop.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { buttonClick, slashCommand, type Actor } from '../../playground/interactions.ts';

let rig: InteractionServer;
beforeAll(async () => {
  rig = await startInteractionServer({
    env: {
      DAILY_BASE: '100',
      DAILY_STREAK_BONUS: '10',
      DAILY_STREAK_CAP: '3',
      PAY_DAILY_LIMIT: '500',
      RATE_LIMIT_ACTIONS: '1000',
    },
  });
});
afterAll(async () => {
  await rig?.stop();
});

let nextId = 300000000000000000n;
const newActor = (extra: Partial<Actor> = {}): Actor => {
  nextId++;
  return {
    id: String(nextId),
    username: `player${nextId % 1000n}`,
    globalName: `Player ${nextId % 1000n}`,
    ...extra,
  };
};

type Data = APIInteractionResponseCallbackData;
/** Sends and checks the answer is a private message (new or update); returns its data. */
async function ask(payload: unknown, type: 4 | 7 = 4): Promise<Data> {
  const { status, body } = await rig.send(payload);
  expect(status).toBe(200);
  expect(body.type).toBe(type);
  const data = (body as { data: Data }).data;
  expect(data.flags! & 64).toBe(64);
  return data;
}
const embedText = (e: APIEmbed | undefined) =>
  [e?.title, e?.description, ...(e?.fields ?? []).flatMap((f) => [f.name, f.value])].join('\n');
/** The custom_ids of a message's buttons, in order. */
const customIds = (data: Data): string[] =>
  ((data.components ?? []) as unknown as { components?: { custom_id?: string }[] }[]).flatMap((row) =>
    (row.components ?? []).map((c) => c.custom_id ?? ''),
  );
const field = (e: APIEmbed | undefined, name: string) => e?.fields?.find((f) => f.name === name)?.value;

async function balanceOf(discordId: string): Promise<number> {
  const row = await rig.db.db
    .selectFrom('accounts')
    .innerJoin('users', 'users.id', 'accounts.id')
    .select('accounts.balance')
    .where('users.discord_id', '=', discordId)
    .executeTakeFirstOrThrow();
  return Number(row.balance);
}

describe('the Coin Hub', () => {
  it('/coins shows the hub with five buttons, privately, and creates the user from the payload', async () => {
    const me = newActor({ avatar: 'abc123' });
    const data = await ask(slashCommand('coins', me));
    const ids = customIds(data);
    expect(ids).toEqual(['hub:card', 'hub:shop', 'hub:quests', 'hub:daily', 'hub:help']);
    const user = await rig.db.db
      .selectFrom('users')
      .selectAll()
      .where('discord_id', '=', me.id)
      .executeTakeFirstOrThrow();
    expect(user).toMatchObject({ username: me.username, global_name: me.globalName, avatar: 'abc123' });

    await ask(slashCommand('coins', { ...me, globalName: 'Renamed', avatar: null }));
    const renamed = await rig.db.db
      .selectFrom('users')
      .selectAll()
      .where('discord_id', '=', me.id)
      .executeTakeFirstOrThrow();
    expect(renamed).toMatchObject({ id: user.id, global_name: 'Renamed', avatar: null });
  });

  it('every hub button answers privately', async () => {
    const me = newActor();
    const card = await ask(buttonClick('hub:card', me));
    expect(card.embeds![0]!.title).toBe('My Card');
    const shop = await ask(buttonClick('hub:shop', me));
    expect(shop.content ?? embedText(shop.embeds?.[0])).toMatch(/shop|market/i);
    const quests = await ask(buttonClick('hub:quests', me));
    expect(embedText(quests.embeds![0])).toMatch(/no active quests/i);
    const daily = await ask(buttonClick('hub:daily', me));
    expect(daily.embeds![0]!.title).toBe('+100 coins');
    const help = await ask(buttonClick('hub:help', me));
    expect(embedText(help.embeds![0])).toMatch(/\/pay/);
  });

  it('Quests lists the active quests', async () => {
    await rig.db.db
      .insertInto('quests')
      .values([
        { title: 'Mine 64 diamonds', description: 'In survival.', reward: 250 },
        { title: 'Old quest', description: '', reward: 5, active: false },
      ])
      .execute();
    const data = await ask(buttonClick('hub:quests', newActor()));
    const text = embedText(data.embeds![0]);
    expect(text).toContain('Mine 64 diamonds · 250 coins');
    expect(text).not.toContain('Old quest');
  });

  it('My Card shows balance, escrow, streak and the last 3 transactions with sign, counterparty and relative time', async () => {
    const me = newActor();
    const friend = newActor();
    await ask(slashCommand('daily', me));
    await ask(slashCommand('coins', friend));
    for (const amount of [7, 8]) {
      const prompt = await ask(
        slashCommand('pay', me, { user: { user: friend }, amount, note: `n${amount}` }),
      );
      const confirm = prompt.components![0]!;
      const confirmId =
        'components' in confirm && 'custom_id' in confirm.components[0]!
          ? confirm.components[0].custom_id
          : '';
      await ask(buttonClick(confirmId, me), 7);
    }
    const card = (await ask(slashCommand('card', me))).embeds![0]!;
    expect(field(card, 'Balance')).toBe('85 coins');
    expect(field(card, 'Held in escrow')).toBe('0 coins');
    expect(field(card, 'Streak')).toBe('1 day (best 1 day)');
    const lines = field(card, 'Latest transactions')!.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^\`-8\` Payment · to <@${friend.id}> · “n8” · <t:\\d+:R>$`));
    expect(lines[1]).toMatch(new RegExp(`^\`-7\` Payment · to <@${friend.id}>`));
    expect(lines[2]).toMatch(/^`\+100` Daily reward · Coinhub · <t:\d+:R>$/);
    const theirs = (await ask(buttonClick('hub:card', friend))).embeds![0]!;
    expect(field(theirs, 'Latest transactions')!.split('\n')[0]).toMatch(
      new RegExp(`^\`\\+8\` Payment · from <@${me.id}>`),
    );
  });

  it('/card user: shows another member’s card to admins only', async () => {
    const owner = newActor();
    await ask(slashCommand('daily', owner));
    const nosy = await ask(slashCommand('card', newActor(), { user: { user: owner } }));
    expect(nosy.content).toMatch(/only admins/i);
    expect(nosy.embeds ?? []).toHaveLength(0);

    const admin = newActor({ admin: true });
    const card = (await ask(slashCommand('card', admin, { user: { user: owner } }))).embeds![0]!;
    expect(card.description).toContain(`<@${owner.id}>`);
    expect(field(card, 'Balance')).toBe('100 coins');
    const stranger = await ask(slashCommand('card', admin, { user: { user: newActor() } }));
    expect(stranger.content).toMatch(/has not used Coinhub/);
    const self = (await ask(slashCommand('card', owner, { user: { user: owner } }))).embeds![0]!;
    expect(field(self, 'Balance')).toBe('100 coins');
  });

  it('/daily pays base + streak bonus per consecutive day, capped, resets after a missed day, and says when the next opens', async () => {
    const me = newActor();
    const day = 24 * 3600 * 1000;
    const claimOn = async (offsetDays: number) => {
      rig.setClockOffset(offsetDays * day);
      return (await ask(slashCommand('daily', me))).embeds![0]!;
    };
    try {
      const amounts: string[] = [];
      for (const d of [0, 1, 2, 3, 4]) amounts.push((await claimOn(d)).title!);
      expect(amounts).toEqual(['+100 coins', '+110 coins', '+120 coins', '+130 coins', '+130 coins']);
      const again = await claimOn(4);
      expect(again.title).toBe('Already claimed today');
      const next = Math.floor(
        Date.UTC(
          new Date(Date.now() + 5 * day).getUTCFullYear(),
          new Date(Date.now() + 5 * day).getUTCMonth(),
          new Date(Date.now() + 5 * day).getUTCDate(),
        ) / 1000,
      );
      expect(again.description).toContain(`<t:${next}:R>`);
      expect(field(again, 'Streak')).toBe('5 days (best 5 days)');
      const afterGap = await claimOn(6);
      expect(afterGap.title).toBe('+100 coins');
      expect(field(afterGap, 'Streak')).toBe('1 day (best 5 days)');
      expect(afterGap.description).toMatch(/<t:\d+:R>/);
      expect(await balanceOf(me.id)).toBe(100 + 110 + 120 + 130 + 130 + 100);
    } finally {
      rig.setClockOffset(0);
    }
  });

  it('20 parallel Claim Daily clicks by one user make exactly one claim and 19 clean refusals', async () => {
    const me = newActor();
    await ask(slashCommand('coins', me));
    const answers = await Promise.all(Array.from({ length: 20 }, () => ask(buttonClick('hub:daily', me))));
    const titles = answers.map((a) => a.embeds![0]!.title);
    expect(titles.filter((t) => t === '+100 coins')).toHaveLength(1);
    expect(titles.filter((t) => t === 'Already claimed today')).toHaveLength(19);
    expect(await balanceOf(me.id)).toBe(100);
    const claims = await rig.db.db
      .selectFrom('daily_claims')
      .innerJoin('users', 'users.id', 'daily_claims.user_id')
      .select('amount')
      .where('users.discord_id', '=', me.id)
      .execute();
    expect(claims).toHaveLength(1);
    expect((await checkLedger(rig.db.db)).ok).toBe(true);
  });

  it('/pay asks for confirmation; a double click on Confirm pays once', async () => {
    const me = newActor();
    const friend = newActor();
    await ask(slashCommand('daily', me));
    const prompt = await ask(
      slashCommand('pay', me, { user: { user: friend }, amount: 40, note: 'for the pickaxe' }),
    );
    expect(embedText(prompt.embeds![0])).toContain(`Send **40 coins** to <@${friend.id}>?`);
    const ids = customIds(prompt);
    expect(ids[0]).toMatch(/^pay:confirm:\d+$/);
    expect(ids[1]).toMatch(/^pay:cancel:\d+$/);
    expect(await balanceOf(me.id)).toBe(100);

    const clicks = await Promise.all([ask(buttonClick(ids[0]!, me), 7), ask(buttonClick(ids[0]!, me), 7)]);
    for (const c of clicks) {
      expect(c.embeds![0]!.title).toBe('Payment sent');
      expect(c.components).toEqual([]);
    }
    expect(await balanceOf(me.id)).toBe(60);
    expect(await balanceOf(friend.id)).toBe(40);
    const late = await ask(buttonClick(ids[0]!, me), 7);
    expect(late.embeds![0]!.title).toBe('Payment sent');
    expect(await balanceOf(me.id)).toBe(60);

    const thief = await ask(buttonClick(ids[0]!, friend));
    expect(thief.content).toMatch(/not yours/i);
    expect((await checkLedger(rig.db.db)).ok).toBe(true);
  });

  it('/pay refuses bad requests without moving coins', async () => {
    const me = newActor();
    const friend = newActor();
    await ask(slashCommand('daily', me));
    const self = await ask(slashCommand('pay', me, { user: { user: me }, amount: 5 }));
    expect(self.content).toMatch(/cannot pay yourself/i);
    const bot = await ask(
      slashCommand('pay', me, { user: { user: { id: '900000000000000999', bot: true } }, amount: 5 }),
    );
    expect(bot.content).toMatch(/bots have no wallet/i);
    const zero = await ask(slashCommand('pay', me, { user: { user: friend }, amount: 0 }));
    expect(zero.content).toMatch(/whole number of coins/i);
    const overLimit = await ask(slashCommand('pay', me, { user: { user: friend }, amount: 501 }));
    expect(overLimit.content).toMatch(/at most 500/);

    const tooMuch = await ask(slashCommand('pay', me, { user: { user: friend }, amount: 150 }));
    const confirmId = customIds(tooMuch)[0]!;
    const refused = await ask(buttonClick(confirmId, me), 7);
    expect(refused.content).toMatch(
      /Payment not sent. Not enough coins: you have \d+ coins and that needs [\d,]+ coins./,
    );

    const cancelPrompt = await ask(slashCommand('pay', me, { user: { user: friend }, amount: 10 }));
    const [confirm, cancel] = customIds(cancelPrompt);
    expect((await ask(buttonClick(cancel!, me), 7)).content).toMatch(/cancelled/i);
    expect((await ask(buttonClick(confirm!, me), 7)).content).toMatch(/expired/i);
    expect(await balanceOf(me.id)).toBe(100);
  });

  it('/pay enforces the daily limit across payments', async () => {
    const me = newActor();
    const friend = newActor();
    await rig.send(slashCommand('coins', me));
    const user = await rig.db.db
      .selectFrom('users')
      .select('id')
      .where('discord_id', '=', me.id)
      .executeTakeFirstOrThrow();
    await new Ledger(rig.db.db).transfer({
      key: `seed:${me.id}`,
      debit: SYSTEM_ACCOUNTS.mint,
      credit: user.id,
      amount: 1000,
      reason: 'admin_adjust',
    });
    const pay = async (amount: number) => {
      const prompt = await ask(slashCommand('pay', me, { user: { user: friend }, amount }));
      const id = customIds(prompt)[0]!;
      return ask(buttonClick(id, me), 7);
    };
    expect((await pay(300)).embeds![0]!.title).toBe('Payment sent');
    expect((await pay(300)).content).toMatch(/Payment not sent/);
    expect((await pay(200)).embeds![0]!.title).toBe('Payment sent');
    expect(await balanceOf(friend.id)).toBe(500);
  });

  it('a frozen player can look at their card but can neither claim nor pay, nor be paid', async () => {
    const me = newActor();
    const friend = newActor();
    await ask(slashCommand('daily', me));
    await ask(slashCommand('coins', friend));
    await rig.db.db
      .updateTable('users')
      .set({ frozen: true, frozen_reason: 'test' })
      .where('discord_id', '=', me.id)
      .execute();
    rig.setClockOffset(24 * 3600 * 1000);
    try {
      expect((await ask(buttonClick('hub:daily', me))).content).toMatch(/frozen/i);
    } finally {
      rig.setClockOffset(0);
    }
    expect((await ask(slashCommand('pay', me, { user: { user: friend }, amount: 5 }))).content).toMatch(
      /frozen/i,
    );
    expect((await ask(slashCommand('pay', friend, { user: { user: me }, amount: 5 }))).content).toMatch(
      /frozen/i,
    );
    expect(field((await ask(buttonClick('hub:card', me))).embeds![0], 'Balance')).toBe('100 coins');
    expect(await balanceOf(me.id)).toBe(100);
  });

  it('/help explains the rules with the configured numbers', async () => {
    const data = await ask(slashCommand('help', newActor()));
    const text = embedText(data.embeds![0]);
    expect(text).toContain('100 coins, plus 10 coins for each day in a row, up to 130 coins');
    expect(text).toContain('up to 500 coins a day');
  });

  it('/help and the Help button list the marketplace commands with their registered descriptions', async () => {
    const me = newActor();
    for (const data of [await ask(slashCommand('help', me)), await ask(buttonClick('hub:help', me))]) {
      const market = field(data.embeds![0], 'Marketplace');
      expect(market).toContain("The Coin Hub's **Shop** button opens the shop browser");
      expect(market?.split('\n').slice(1)).toEqual([
        `\`/sell [item]\` — ${sellCommand.definition.description}`,
        `\`/shop [query]\` — ${shopCommand.definition.description}`,
        `\`/orders\` — ${ordersCommand.definition.description}`,
        `\`/listings [official]\` — ${listingsCommand.definition.description}`,
      ]);
    }
  });
});

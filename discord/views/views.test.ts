import { describe, expect, it } from 'vitest';
import { messageProblems } from '../../playground/discord/limits.ts';
import { renderPlayerCard } from './card.ts';
import { renderDailyClaim } from './daily.ts';
import { renderHelp } from './help.ts';
import { renderHub } from './hub.ts';
import { renderPayConfirm, renderPaySent } from './pay.ts';
import { renderQuests } from './quests.ts';
import { renderListing } from './market.ts';
import type { Listing } from '../../economy/market/types.ts';

const valid = (body: object) => expect(messageProblems(body, { create: true })).toEqual([]);

describe('message views', () => {
  it('stay within Discord’s limits even with long or empty data', () => {
    valid(renderHub());
    valid({
      embeds: [
        renderQuests(
          Array.from({ length: 40 }, (_, i) => ({
            title: 'T'.repeat(300),
            description: i % 2 ? '' : 'D'.repeat(2000),
            reward: 1_000_000,
            endsAt: i % 3 ? null : new Date(),
          })),
        ),
      ],
    });
    valid({ embeds: [renderQuests([])] });
    valid({
      embeds: [
        renderPlayerCard({
          discordId: '1',
          name: 'N'.repeat(80),
          avatarUrl: null,
          balance: 0,
          held: 0,
          streak: { current: 0, best: 0 },
          recent: [],
          minecraftName: null,
        }),
      ],
    });
    valid(
      renderPayConfirm({
        intentId: '1575314610622136322',
        toDiscordId: '2',
        amount: 5,
        note: 'x'.repeat(200),
      }),
    );
    valid({
      embeds: [renderPaySent({ toDiscordId: '2', amount: 5, balance: 1, paidToday: 5, dailyLimit: 0 })],
    });
    valid({
      embeds: [
        renderHelp(
          {
            dailyBase: 0,
            dailyStreakBonus: 0,
            dailyStreakCap: 0,
            dailyTimeZone: 'UTC',
            payDailyLimit: 0,
          },
          // Discord's longest: 32-character names, 100-character descriptions.
          Array.from({ length: 4 }, () => ({
            usage: `/${'n'.repeat(32)} [${'o'.repeat(32)}]`,
            description: 'd'.repeat(100),
          })),
        ),
      ],
    });
  });

  it('lists as many quests as fit and counts the rest', () => {
    const many = Array.from({ length: 40 }, () => ({
      title: 'T',
      description: 'D'.repeat(900),
      reward: 1,
      endsAt: null,
    }));
    const embed = renderQuests(many);
    expect(embed.fields!.length).toBeGreaterThan(1);
    expect(embed.footer!.text).toBe(`and ${40 - embed.fields!.length} more quests`);
  });

  it('a quest without description or end still has a field value', () => {
    const embed = renderQuests([{ title: 'Q', description: '', reward: 1, endsAt: null }]);
    expect(embed.fields).toEqual([{ name: 'Q · 1 coin', value: 'No details yet.' }]);
  });

  it('My Card lines carry sign, reason, counterparty, memo and relative time', () => {
    const at = new Date('2026-11-26T12:00:00Z');
    const embed = renderPlayerCard({
      discordId: '10',
      name: 'Ann',
      avatarUrl: 'https://cdn/x.png',
      balance: 1234,
      held: 40,
      streak: { current: 3, best: 9 },
      minecraftName: 'Ann_mc',
      recent: [
        {
          sign: -1,
          amount: 40,
          reason: 'market_purchase',
          memo: null,
          counterparty: { kind: 'system', code: 'escrow' },
          at,
        },
        {
          sign: 1,
          amount: 5,
          reason: 'pay',
          memo: 'hi',
          counterparty: { kind: 'user', discordId: '20', name: 'Bo' },
          at,
        },
      ],
    });
    expect(embed.author).toEqual({ name: 'Ann', icon_url: 'https://cdn/x.png' });
    const fields = Object.fromEntries(embed.fields!.map((f) => [f.name, f.value]));
    expect(fields).toMatchObject({
      Balance: '1,234 coins',
      'Held in escrow': '40 coins',
      Streak: '3 days (best 9 days)',
      Minecraft: '⛏️ Ann_mc',
    });
    expect(fields['Latest transactions']!.split('\n')).toEqual([
      '`-40` Marketplace purchase · Escrow · <t:1795694400:R>',
      '`+5` Payment · from <@20> · “hi” · <t:1795694400:R>',
    ]);
  });

  it('Claim Daily says when the next claim opens', () => {
    const next = new Date('2026-11-27T00:00:00Z');
    expect(
      renderDailyClaim({ claimed: false, streak: 2, bestStreak: 2, nextClaimAt: next }).description,
    ).toBe('Your next daily reward opens <t:1795737600:R>.');
    const claimed = renderDailyClaim({
      claimed: true,
      amount: 110,
      streak: 2,
      bestStreak: 2,
      balance: 210,
      nextClaimAt: next,
    });
    expect(claimed.title).toBe('+110 coins');
    expect(claimed.description).toContain('<t:1795737600:R>');
  });
});

describe("players' listing text in #shop", () => {
  const base: Listing = {
    id: '7',
    sellerId: '3',
    official: false,
    catalogItemId: null,
    title: '# FREE [Claim reward](https://evil.example/claim)',
    description: '**Official** giveaway: https://evil.example <@&123> ||x||',
    unitPrice: 5,
    quantityTotal: 1,
    quantityLeft: 1,
    state: 'active',
    guardOverride: false,
    shopChannelId: null,
    shopMessageId: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  };

  it('shows a player listing as plain text: no links, no markdown, no mentions', () => {
    const [embed] = renderListing(base, '500').embeds;
    const text = `${embed!.title}\n${embed!.description}`;
    expect(text).not.toMatch(/https?:|evil\.example/);
    expect(embed!.title).toBe('\\# FREE Claim reward');
    expect(embed!.description).toBe(
      '\\*\\*Official\\*\\* giveaway\\: \\(link removed\\) \\<\\@&123\\> \\|\\|x\\|\\|',
    );
  });

  it("keeps an official listing's text as its admin wrote it", () => {
    const official = { ...base, sellerId: null, official: true };
    const [embed] = renderListing(official, null).embeds;
    expect(embed!.title).toBe(base.title);
    expect(embed!.description).toBe(base.description);
  });
});

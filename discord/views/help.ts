import type { APIEmbed } from 'discord-api-types/v10';
import { coins, COLOR } from './format.ts';

export interface HelpRules {
  dailyBase: number;
  dailyStreakBonus: number;
  dailyStreakCap: number;
  dailyTimeZone: string;
  payDailyLimit: number;
}

/** A command as the help lists it: how it is typed (`/sell [item]`) and what it does. */
export interface HelpCommand {
  usage: string;
  description: string;
}

/** How coins work, with this community's numbers, and the marketplace's commands. */
export function renderHelp(rules: HelpRules, marketCommands: HelpCommand[]): APIEmbed {
  const best = rules.dailyBase + rules.dailyStreakBonus * rules.dailyStreakCap;
  return {
    title: 'How Coinhub works',
    color: COLOR,
    fields: [
      {
        name: 'Earning',
        value:
          `Claim your daily reward once per day (days start at midnight ${rules.dailyTimeZone}): ` +
          `${coins(rules.dailyBase)}, plus ${coins(rules.dailyStreakBonus)} for each day in a row, ` +
          `up to ${coins(best)}. Missing a day resets your streak. Quests and Minecraft events pay too.`,
      },
      {
        name: 'Commands',
        value: [
          '`/coins` opens the Coin Hub',
          '`/card` shows your balance, streak and latest transactions',
          '`/daily` claims your daily reward',
          rules.payDailyLimit > 0
            ? `\`/pay user amount [note]\` sends coins to another member (up to ${coins(rules.payDailyLimit)} a day)`
            : '`/pay` is turned off in this server',
          '`/help` shows this page',
        ].join('\n'),
      },
      {
        name: 'Marketplace',
        value: [
          "The Coin Hub's **Shop** button opens the shop browser, as `/shop` does",
          ...marketCommands.map((c) => `\`${c.usage}\` — ${c.description}`),
        ].join('\n'),
      },
      {
        name: 'Escrow',
        value:
          'When you buy on the marketplace your coins are held in escrow until the seller delivers; ' +
          'they show on your card as "held" and come back if the order is refunded.',
      },
    ],
  };
}

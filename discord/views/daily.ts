import type { APIEmbed } from 'discord-api-types/v10';
import { coins, COLOR, COLOR_OK, relativeTime } from './format.ts';

export type DailyClaimView =
  | { claimed: true; amount: number; streak: number; bestStreak: number; balance: number; nextClaimAt: Date }
  | { claimed: false; streak: number; bestStreak: number; nextClaimAt: Date };

const days = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;

/** The answer to Claim Daily: what was paid and when the next claim opens, or when it opens if already claimed. */
export function renderDailyClaim(result: DailyClaimView): APIEmbed {
  if (!result.claimed) {
    return {
      title: 'Already claimed today',
      color: COLOR,
      description: `Your next daily reward opens ${relativeTime(result.nextClaimAt)}.`,
      fields: [
        { name: 'Streak', value: `${days(result.streak)} (best ${days(result.bestStreak)})`, inline: true },
      ],
    };
  }
  return {
    title: `+${coins(result.amount)}`,
    color: COLOR_OK,
    description: `Daily reward claimed. Come back ${relativeTime(result.nextClaimAt)} to keep your streak.`,
    fields: [
      { name: 'Streak', value: `${days(result.streak)} (best ${days(result.bestStreak)})`, inline: true },
      { name: 'Balance', value: coins(result.balance), inline: true },
    ],
  };
}

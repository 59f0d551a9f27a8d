import type { APIEmbed } from 'discord-api-types/v10';
import { coins, COLOR, relativeTime } from './format.ts';

export interface QuestView {
  title: string;
  description: string;
  reward: number;
  endsAt: Date | null;
}

/** Active quests, or a note that there are none. Discord allows 25 fields, so at most 25 quests show. */
export function renderQuests(quests: QuestView[]): APIEmbed {
  if (quests.length === 0) {
    return {
      title: 'Quests',
      color: COLOR,
      description: 'There are no active quests right now. Check back soon!',
    };
  }
  return {
    title: 'Quests',
    color: COLOR,
    description: 'Complete these to earn coins.',
    fields: quests.slice(0, 25).map((q) => ({
      name: `${q.title.slice(0, 200)} · ${coins(q.reward)}`,
      value: [q.description.slice(0, 900) || '​', q.endsAt ? `Ends ${relativeTime(q.endsAt)}` : '']
        .filter(Boolean)
        .join('\n'),
    })),
  };
}

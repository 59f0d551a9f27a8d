import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import { coins, COLOR, relativeTime } from './format.ts';

export interface QuestView {
  title: string;
  description: string;
  reward: number;
  endsAt: Date | null;
}

/** Discord allows 25 fields and 6,000 characters per embed; the rest of the list is counted in the footer. */
const MAX_FIELDS = 25;
const TEXT_BUDGET = 5_500;

function questField(q: QuestView): APIEmbedField {
  return {
    name: `${q.title.slice(0, 200)} · ${coins(q.reward)}`,
    // A field value may not be empty.
    value:
      [q.description.slice(0, 900), q.endsAt ? `Ends ${relativeTime(q.endsAt)}` : '']
        .filter(Boolean)
        .join('\n') || 'No details yet.',
  };
}

/** Active quests (as many as fit in one embed), or a note that there are none. */
export function renderQuests(quests: QuestView[]): APIEmbed {
  if (quests.length === 0) {
    return {
      title: 'Quests',
      color: COLOR,
      description: 'There are no active quests right now. Check back soon!',
    };
  }
  const fields: APIEmbedField[] = [];
  let used = 0;
  for (const q of quests) {
    const field = questField(q);
    const size = field.name.length + field.value.length;
    if (fields.length === MAX_FIELDS || used + size > TEXT_BUDGET) break;
    fields.push(field);
    used += size;
  }
  const more = quests.length - fields.length;
  return {
    title: 'Quests',
    color: COLOR,
    description: 'Complete these to earn coins.',
    fields,
    ...(more > 0 ? { footer: { text: `and ${more} more ${more === 1 ? 'quest' : 'quests'}` } } : {}),
  };
}

import type { Db } from '../db/client.ts';

export interface QuestSummary {
  id: string;
  title: string;
  description: string;
  reward: number;
  endsAt: Date | null;
}

/** Quests running at `now`, those ending soonest first. */
export async function listActiveQuests(db: Db, now: Date): Promise<QuestSummary[]> {
  const rows = await db
    .selectFrom('quests')
    .select(['id', 'title', 'description', 'reward', 'ends_at'])
    .where('active', '=', true)
    .where('starts_at', '<=', now)
    .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]))
    .orderBy((eb) => eb.fn.coalesce('ends_at', eb.val(new Date('9999-12-31T00:00:00Z'))))
    .orderBy('id')
    .limit(25)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    description: r.description,
    reward: Number(r.reward),
    endsAt: r.ends_at,
  }));
}

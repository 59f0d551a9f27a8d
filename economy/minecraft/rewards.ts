import { sql } from 'kysely';
import { retrying, type Db } from '../../db/client.ts';
import { coalesce } from '../../db/coalesce.ts';
import { dayOf } from '../time.ts';
import { storedAnswer, type EventAnswer, type EventMeta } from './events.ts';

export interface RewardSettings {
  /** Most coins one player may earn from the server per day. */
  dailyCap: number;
  /** The time zone whose midnight starts a new day (the daily claim's). */
  timeZone: string;
}

export interface GrantRequest {
  meta: EventMeta;
  uuid: string;
  amount: number;
  source: string;
}

/**
 * `reward.grant` events: coins from `mint` to the wallet linked to the player, keyed in the ledger by the
 * event id, capped per player and day. The events of one event-loop turn go to Postgres as one call of
 * `minecraft_grant` (migration 2026_12_01_0200), which claims their ids, applies the cap, calls `ledger_apply`
 * and stores the answers in one statement: one round trip and one commit for the batch.
 */
export class RewardGrants {
  private readonly submit: (req: GrantRequest) => Promise<EventAnswer>;

  constructor(
    private readonly db: Db,
    settings: RewardSettings,
    now: () => Date,
  ) {
    this.submit = coalesce(async (reqs: GrantRequest[]) => {
      const at = now();
      // One row per id: the same event sent twice in one turn is one event, and both copies get its answer.
      const unique = [...new Map(reqs.map((r) => [r.meta.webhookId, r])).values()];
      const batch = JSON.stringify(
        unique.map((r, idx) => ({
          idx,
          id: r.meta.webhookId,
          server: r.meta.server,
          uuid: r.uuid,
          amount: r.amount,
          source: r.source,
        })),
      );
      const { rows } = await retrying(() =>
        sql<{ idx: number; status: number; answer: EventAnswer['body'] }>`
          select idx, status, answer
          from minecraft_grant(${batch}::jsonb, ${dayOf(at, settings.timeZone)}::date, ${settings.dailyCap}, ${at})`.execute(
          db,
        ),
      );
      const byId = new Map(
        rows.map((r) => [unique[r.idx]!.meta.webhookId, { status: r.status, body: r.answer }]),
      );
      return reqs.map((r) => byId.get(r.meta.webhookId)!);
    }, 128);
  }

  /** The event's answer: the first one for a seen id, otherwise the grant's (or its refusal). */
  async grant(req: GrantRequest): Promise<{ answer: EventAnswer; replayed: boolean }> {
    const seen = await storedAnswer(this.db, req.meta.webhookId);
    if (seen) return { answer: seen, replayed: true };
    return { answer: await this.submit(req), replayed: false };
  }
}

const perProcess = new WeakMap<Db, RewardGrants>();

/** The RewardGrants of a process, one per database handle, so every webhook shares its batches. */
export function rewardGrantsFor(db: Db, settings: RewardSettings, now: () => Date): RewardGrants {
  let grants = perProcess.get(db);
  if (!grants) {
    grants = new RewardGrants(db, settings, now);
    perProcess.set(db, grants);
  }
  return grants;
}

import { sql } from 'kysely';
import type { Db, Tx } from '../../db/client.ts';
import { TxBatcher, type Outcome } from '../batcher.ts';
import { AppError } from '../errors.ts';
import { applyInTransaction, SYSTEM_ACCOUNTS, type LedgerOp } from '../ledger.ts';
import { dayOf } from '../time.ts';
import {
  answersOf,
  claimEvents,
  okAnswer,
  refusalAnswer,
  saveAnswers,
  storedAnswer,
  type EventAnswer,
  type EventMeta,
} from './events.ts';

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

const coins = (n: number) => `${n.toLocaleString('en-US')} coin${n === 1 ? '' : 's'}`;
const PENDING: EventAnswer = { status: 500, body: { error: { code: 'pending', message: 'Being handled.' } } };

/**
 * `reward.grant` events: coins from `mint` to the wallet linked to the player, keyed in the ledger by the
 * event id, capped per player and day. Concurrent events share one transaction (TxBatcher): one claim of
 * their ids, one read and update of the day's totals, one `ledger_apply` and one commit for the batch.
 */
export class RewardGrants {
  private readonly batcher: TxBatcher<GrantRequest, EventAnswer>;

  constructor(
    private readonly db: Db,
    settings: RewardSettings,
    private readonly now: () => Date,
  ) {
    this.batcher = new TxBatcher(
      db,
      (trx, reqs) => grantInTransaction(trx, settings, reqs, this.now()),
      (r) => r.meta.webhookId,
      { maxInFlight: 2, maxBatch: 128 },
    );
  }

  /** The event's answer: the first one for a seen id, otherwise the grant's (or its refusal). */
  async grant(req: GrantRequest): Promise<{ answer: EventAnswer; replayed: boolean }> {
    const seen = await storedAnswer(this.db, req.meta.webhookId);
    if (seen) return { answer: seen, replayed: true };
    return this.batcher.submit(req).then((answer) => ({ answer, replayed: false }));
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

/** Grants a batch inside one transaction; every request gets its event's answer. */
export async function grantInTransaction(
  trx: Tx,
  settings: RewardSettings,
  reqs: GrantRequest[],
  now: Date,
): Promise<Outcome<EventAnswer>[]> {
  const claimed = await claimEvents(
    trx,
    reqs.map((r) => r.meta),
    reqs.map(() => PENDING),
    now,
  );
  const answers = new Map<string, EventAnswer>();
  const fresh = reqs.filter((r) => claimed.has(r.meta.webhookId));
  const uuids = [...new Set(fresh.map((r) => r.uuid))].sort();

  if (uuids.length > 0) {
    const day = dayOf(now, settings.timeZone);
    const linked = await trx
      .selectFrom('users')
      .select(['id', 'minecraft_uuid'])
      .where(sql<boolean>`minecraft_uuid = any(${uuids}::uuid[])`)
      .execute();
    const wallet = new Map(linked.map((u) => [u.minecraft_uuid!, String(u.id)]));
    // The day's totals of every player in the batch, locked in uuid order so batches cannot deadlock.
    await sql`
      insert into minecraft_reward_days (player_uuid, day, granted)
      select u, ${day}::date, 0 from unnest(${uuids}::uuid[]) u
      on conflict do nothing`.execute(trx);
    const rows = await sql<{ player_uuid: string; granted: string }>`
      select player_uuid, granted from minecraft_reward_days
      where player_uuid = any(${uuids}::uuid[]) and day = ${day}::date
      order by player_uuid for update`.execute(trx);
    const total = new Map(rows.rows.map((r) => [r.player_uuid, Number(r.granted)]));

    const grants: { r: GrantRequest; amount: number; userId: string }[] = [];
    for (const r of fresh) {
      const userId = wallet.get(r.uuid);
      const left = settings.dailyCap - total.get(r.uuid)!;
      if (!userId) {
        answers.set(
          r.meta.webhookId,
          refusalAnswer(
            new AppError(
              'not_linked',
              'This Minecraft account is not linked to Discord yet: run /link in Discord to earn coins.',
              404,
            ),
          ),
        );
      } else if (left <= 0) {
        answers.set(
          r.meta.webhookId,
          refusalAnswer(
            new AppError(
              'daily_cap_reached',
              `You earned the most coins a day allows (${coins(settings.dailyCap)}); more tomorrow.`,
              409,
            ),
          ),
        );
      } else {
        const amount = Math.min(r.amount, left);
        total.set(r.uuid, total.get(r.uuid)! + amount);
        grants.push({ r, amount, userId });
      }
    }

    const ops: LedgerOp[] = grants.map(({ r, amount, userId }) => ({
      op: 'transfer',
      key: `minecraft:${r.meta.webhookId}`,
      debit: SYSTEM_ACCOUNTS.mint,
      credit: userId,
      amount,
      reason: 'minecraft_reward',
      memo: r.source,
      ref: { server: r.meta.server, uuid: r.uuid },
    }));
    const results = ops.length > 0 ? await applyInTransaction(trx, ops, now) : [];
    grants.forEach(({ r, amount }, i) => {
      const res = results[i]!;
      if (res.ok) {
        const capped = amount < r.amount ? ' (the daily limit is reached)' : '';
        answers.set(r.meta.webhookId, okAnswer(`+${coins(amount)} for ${r.source}${capped}.`));
        return;
      }
      // Refused by the ledger (a frozen wallet): the coins did not move, so they do not count for the day.
      total.set(r.uuid, total.get(r.uuid)! - amount);
      const why =
        res.code === 'frozen'
          ? new AppError('frozen', 'Your Coinhub wallet is frozen; ask an admin.', 403)
          : new AppError(res.code, res.message, 409);
      answers.set(r.meta.webhookId, refusalAnswer(why));
    });

    await sql`
      update minecraft_reward_days d set granted = v.granted
      from unnest(${uuids}::uuid[], ${uuids.map((u) => total.get(u)!)}::bigint[]) as v(u, granted)
      where d.player_uuid = v.u and d.day = ${day}::date`.execute(trx);
  }

  await saveAnswers(trx, answers);
  const others = await answersOf(
    trx,
    reqs.filter((r) => !claimed.has(r.meta.webhookId)).map((r) => r.meta.webhookId),
  );
  return reqs.map((r) => ({ ok: true, value: answers.get(r.meta.webhookId) ?? others.get(r.meta.webhookId)! }));
}

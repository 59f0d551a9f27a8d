import { sql } from 'kysely';
import type { Db, Tx } from '../../db/client.ts';
import { Conflict, TxBatcher, type Outcome } from '../batcher.ts';
import { AppError } from '../errors.ts';
import { applyInTransaction, SYSTEM_ACCOUNTS, type LedgerOp } from '../ledger.ts';
import { dayOf } from '../time.ts';
import {
  answersOf,
  claimSql,
  okAnswer,
  refusalAnswer,
  saveAnswersSql,
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

interface Reads {
  claimed: string[];
  totals: [string, number][];
  linked: [string, string, boolean][];
}

const refuse = (code: string, message: string, status: AppError['status']) =>
  refusalAnswer(new AppError(code, message, status));

/**
 * Grants a batch inside one transaction; every request gets its event's answer. Three statements: the claim of
 * the event ids with the players' day totals (locked) and wallets, then `ledger_apply`, then the new totals
 * with the answers. A total that did not exist yet is inserted at the end; if a concurrent batch inserted it
 * first, the batch reruns (Conflict) and finds it.
 */
export async function grantInTransaction(
  trx: Tx,
  settings: RewardSettings,
  reqs: GrantRequest[],
  now: Date,
): Promise<Outcome<EventAnswer>[]> {
  const day = dayOf(now, settings.timeZone);
  const uuids = [...new Set(reqs.map((r) => r.uuid))].sort();
  const claim = claimSql(
    reqs.map((r) => r.meta),
    reqs.map(() => PENDING),
    now,
  );
  const { rows } = await sql<Reads>`
    with claimed as (${claim}),
    totals as (
      select player_uuid, granted from minecraft_reward_days
      where day = ${day}::date and player_uuid = any(${uuids}::uuid[])
      order by player_uuid for update),
    linked as (select id, minecraft_uuid, frozen from users where minecraft_uuid = any(${uuids}::uuid[]))
    select
      (select coalesce(json_agg(webhook_id), '[]') from claimed) as claimed,
      (select coalesce(json_agg(json_build_array(player_uuid, granted)), '[]') from totals) as totals,
      (select coalesce(json_agg(json_build_array(id::text, minecraft_uuid, frozen)), '[]') from linked) as linked`.execute(
    trx,
  );
  const reads = rows[0]!;
  const claimed = new Set(reads.claimed);
  const existing = new Set(reads.totals.map(([u]) => u));
  const total = new Map(reads.totals.map(([u, g]) => [u, Number(g)]));
  const wallet = new Map(reads.linked.map(([id, u, frozen]) => [u, { id, frozen }]));

  const answers = new Map<string, EventAnswer>();
  const grants: { r: GrantRequest; amount: number; userId: string }[] = [];
  for (const r of reqs.filter((q) => claimed.has(q.meta.webhookId))) {
    const user = wallet.get(r.uuid);
    const left = settings.dailyCap - (total.get(r.uuid) ?? 0);
    if (!user) {
      answers.set(
        r.meta.webhookId,
        refuse(
          'not_linked',
          'This Minecraft account is not linked to Discord yet: run /link in Discord to earn coins.',
          404,
        ),
      );
    } else if (user.frozen) {
      answers.set(r.meta.webhookId, refuse('frozen', 'Your Coinhub wallet is frozen; ask an admin.', 403));
    } else if (left <= 0) {
      answers.set(
        r.meta.webhookId,
        refuse(
          'daily_cap_reached',
          `You earned the most coins a day allows (${coins(settings.dailyCap)}); more tomorrow.`,
          409,
        ),
      );
    } else {
      const amount = Math.min(r.amount, left);
      total.set(r.uuid, (total.get(r.uuid) ?? 0) + amount);
      grants.push({ r, amount, userId: user.id });
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
  const added = new Map<string, number>();
  grants.forEach(({ r, amount }, i) => {
    const res = results[i]!;
    if (res.ok) {
      added.set(r.uuid, (added.get(r.uuid) ?? 0) + amount);
      const capped = amount < r.amount ? ' (the daily limit is reached)' : '';
      answers.set(r.meta.webhookId, okAnswer(`+${coins(amount)} for ${r.source}${capped}.`));
    } else {
      // Refused by the ledger (the wallet was frozen meanwhile): nothing moved, so nothing counts for the day.
      answers.set(r.meta.webhookId, refusalAnswer(new AppError(res.code, res.message, 409)));
    }
  });

  if (answers.size > 0) {
    const update = [...added].filter(([u]) => existing.has(u));
    const insert = [...added].filter(([u]) => !existing.has(u));
    const { rows: done } = await sql<{ inserted: number }>`
      with updated as (
        update minecraft_reward_days d set granted = d.granted + v.g
        from unnest(${update.map(([u]) => u)}::uuid[], ${update.map(([, g]) => g)}::bigint[]) as v(u, g)
        where d.player_uuid = v.u and d.day = ${day}::date
        returning 1),
      inserted as (
        insert into minecraft_reward_days (player_uuid, day, granted)
        select u, ${day}::date, g from unnest(${insert.map(([u]) => u)}::uuid[], ${insert.map(([, g]) => g)}::bigint[]) as v(u, g)
        on conflict do nothing
        returning 1),
      answered as (${saveAnswersSql(answers)})
      select (select count(*) from inserted)::int as inserted`.execute(trx);
    if (done[0]!.inserted !== insert.length)
      throw new Conflict("a player's first reward of the day raced another");
  }

  const others = await answersOf(
    trx,
    reqs.filter((r) => !claimed.has(r.meta.webhookId)).map((r) => r.meta.webhookId),
  );
  return reqs.map((r) => ({
    ok: true,
    value: answers.get(r.meta.webhookId) ?? others.get(r.meta.webhookId)!,
  }));
}

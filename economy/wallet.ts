import { sql } from 'kysely';
import type { Db } from '../db/client.ts';
import { coalescePer } from '../db/coalesce.ts';
import { AppError } from './errors.ts';
import { SYSTEM_ACCOUNTS } from './ledger.ts';

type SystemCode = keyof typeof SYSTEM_ACCOUNTS;

export type Counterparty =
  { kind: 'user'; userId: string; discordId: string; name: string } | { kind: 'system'; code: SystemCode };

export interface CardEntry {
  transferId: string;
  /** +1 when coins came into the wallet, -1 when they left it. */
  sign: 1 | -1;
  amount: number;
  reason: string;
  memo: string | null;
  counterparty: Counterparty;
  at: Date;
}

export interface WalletSummary {
  userId: string;
  balance: number;
  /** Coins of this wallet sitting in escrow: the sum of its pending holds. */
  held: number;
  streak: { current: number; best: number };
  /** The last transfers touching the wallet, newest first. */
  recent: CardEntry[];
}

const SYSTEM_CODES = new Map<string, SystemCode>(
  Object.entries(SYSTEM_ACCOUNTS).map(([code, id]) => [id, code as SystemCode]),
);

export const MAX_RECENT = 25;

interface SummaryRow {
  balance: string;
  held: string;
  current_streak: number | null;
  best_streak: number | null;
  recent: {
    id: string;
    sign: 1 | -1;
    amount: string;
    reason: string;
    memo: string | null;
    other: string;
    at: string;
    discord_id: string | null;
    name: string | null;
  }[];
}

/**
 * The data of "My Card" from one call of `wallet_summary` (db/migrations/2026_11_26_0500_create_wallet_summary.ts),
 * whose plan Postgres caches per connection. Its cost does not grow with the wallet's history.
 */
export async function walletSummary(db: Db, userId: string, recentLimit = 3): Promise<WalletSummary> {
  if (!Number.isSafeInteger(recentLimit) || recentLimit < 0 || recentLimit > MAX_RECENT)
    throw new AppError('invalid_limit', `Show between 0 and ${MAX_RECENT} recent transactions.`);
  // At most 18 digits always fits a bigint.
  if (!/^[0-9]{1,18}$/.test(userId)) throw new AppError('unknown_user', 'That user does not exist.', 404);
  const row = await summaries(db, { userId, recentLimit });
  if (!row) throw new AppError('unknown_user', 'That user does not exist.', 404);
  return {
    userId,
    balance: Number(row.balance),
    held: Number(row.held),
    streak: { current: row.current_streak ?? 0, best: row.best_streak ?? 0 },
    recent: row.recent.map((e) => ({
      transferId: e.id,
      sign: e.sign,
      amount: Number(e.amount),
      reason: e.reason,
      memo: e.memo,
      counterparty: counterparty(e.other, e.discord_id, e.name),
      at: new Date(e.at),
    })),
  };
}

/** The cards asked for in one event-loop turn, in one query (My Card is the most clicked button). */
const summaries = coalescePer(
  async (db: Db, keys: { userId: string; recentLimit: number }[]): Promise<(SummaryRow | undefined)[]> => {
    const { rows } = await sql<SummaryRow & { ord: string }>`
      select k.ord, s.*
      from unnest(${keys.map((k) => k.userId)}::bigint[], ${keys.map((k) => k.recentLimit)}::int[])
             with ordinality as k(user_id, recent_limit, ord)
      cross join lateral wallet_summary(k.user_id, k.recent_limit) s`.execute(db);
    const byOrd = new Map(rows.map((r) => [Number(r.ord), r]));
    return keys.map((_, i) => byOrd.get(i + 1));
  },
);

function counterparty(accountId: string, discordId: string | null, name: string | null): Counterparty {
  const code = SYSTEM_CODES.get(accountId);
  if (code) return { kind: 'system', code };
  return { kind: 'user', userId: accountId, discordId: discordId ?? '', name: name ?? '' };
}

import { sql } from 'kysely';
import type { Db } from '../db/client.ts';

export interface LedgerReport {
  ok: boolean;
  accounts: number;
  transfers: number;
  /** Sum of every balance, system balances derived from transfers and pending holds included. Must be "0". */
  sum: string;
  negative_wallets: number;
  /** Wallets whose stored balance differs from the sum of their transfers. */
  wallet_mismatches: number;
  /** Resolved holds whose post/void transfers do not add up to the hold, or pending holds already resolved. */
  unbalanced_holds: number;
  /** Reversals that exceed what they reverse. */
  over_reversed: number;
  pending_holds: number;
  escrow_balance: string;
  pending_total: string;
  checked_at: string;
}

/** Verifies the ledger's invariants in one consistent snapshot. */
export async function checkLedger(db: Db): Promise<LedgerReport> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const { rows } = await sql<{
        accounts: string;
        transfers: string;
        sum: string;
        negative_wallets: string;
        wallet_mismatches: string;
        unbalanced_holds: string;
        over_reversed: string;
        pending_holds: string;
        escrow_balance: string;
        pending_total: string;
      }>`
        with net as (
          select account_id, sum(delta) as derived from (
            select credit_account_id as account_id, amount as delta from transfers
            union all
            select debit_account_id, -amount from transfers
          ) m group by account_id
        ),
        balances as (
          select a.id, a.kind, a.balance,
                 coalesce(n.derived, 0) as derived,
                 case when a.kind = 'user' then a.balance else coalesce(n.derived, 0) end as effective
          from accounts a left join net n on n.account_id = a.id
        ),
        holds as (
          select h.id, h.state, h.amount,
                 coalesce((select sum(r.amount) from transfers r where r.pending_id = h.id), 0) as resolved
          from transfers h where h.phase = 'pending'
        )
        select
          (select count(*) from accounts) as accounts,
          (select count(*) from transfers) as transfers,
          (select coalesce(sum(effective), 0) from balances)::text as sum,
          (select count(*) from balances where kind = 'user' and balance < 0) as negative_wallets,
          (select count(*) from balances where kind = 'user' and balance <> derived) as wallet_mismatches,
          (select count(*) from holds where (state = 'pending' and resolved <> 0)
                                         or (state <> 'pending' and resolved <> amount)) as unbalanced_holds,
          (select count(*) from transfers x
             where (select coalesce(sum(r.amount), 0) from transfers r where r.reverses_id = x.id) > x.amount
               and exists (select 1 from transfers r where r.reverses_id = x.id)) as over_reversed,
          (select count(*) from holds where state = 'pending') as pending_holds,
          (select derived from balances where id = 2)::text as escrow_balance,
          (select coalesce(sum(amount), 0) from holds where state = 'pending')::text as pending_total
      `.execute(trx);
      const r = rows[0]!;
      const report: LedgerReport = {
        ok: false,
        accounts: Number(r.accounts),
        transfers: Number(r.transfers),
        sum: r.sum,
        negative_wallets: Number(r.negative_wallets),
        wallet_mismatches: Number(r.wallet_mismatches),
        unbalanced_holds: Number(r.unbalanced_holds),
        over_reversed: Number(r.over_reversed),
        pending_holds: Number(r.pending_holds),
        escrow_balance: r.escrow_balance,
        pending_total: r.pending_total,
        checked_at: new Date().toISOString(),
      };
      report.ok =
        report.sum === '0' &&
        report.negative_wallets === 0 &&
        report.wallet_mismatches === 0 &&
        report.unbalanced_holds === 0 &&
        report.over_reversed === 0 &&
        report.escrow_balance === report.pending_total;
      return report;
    });
}

/** Runs the check and records its outcome in ledger_checks. */
export async function recordLedgerCheck(db: Db): Promise<LedgerReport> {
  const report = await checkLedger(db);
  await db
    .insertInto('ledger_checks')
    .values({ ok: report.ok, report: JSON.stringify(report) })
    .execute();
  return report;
}

import { sql, type Kysely } from 'kysely';

/**
 * Indexes behind My Card and /pay: the coins a wallet holds in escrow (its pending holds) and the coins
 * it sent with /pay in a day window, each answered from a small partial index instead of the wallet's
 * whole history.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index transfers_pending_by_debit on transfers (debit_account_id) include (amount)
    where state = 'pending'`.execute(db);
  await sql`
    create index transfers_pay_by_debit on transfers (debit_account_id, created_at) include (amount)
    where reason = 'pay'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index transfers_pay_by_debit`.execute(db);
  await sql`drop index transfers_pending_by_debit`.execute(db);
}

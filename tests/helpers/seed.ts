import type { Db } from '../../db/client.ts';
import { Ledger, SYSTEM_ACCOUNTS } from '../../economy/ledger.ts';

// Seeding shared by the tests and the benchmarks (scripts/ imports this, and `npm run build` compiles it), so
// nothing here may import vitest.

/** Rows per insert statement: keeps large seeds well under Postgres' bind-parameter limit. */
const CHUNK = 1000;

/** Inserts `count` users with empty wallets, Discord ids counting up from `startDiscordId`. */
export async function insertUsers(db: Db, count: number, startDiscordId = 100_000_000_000_000_000n) {
  const users: { id: string; discord_id: string }[] = [];
  for (let start = 0; start < count; start += CHUNK) {
    const rows = Array.from({ length: Math.min(CHUNK, count - start) }, (_, i) => ({
      discord_id: String(startDiscordId + BigInt(start + i)),
      username: `user${start + i}`,
    }));
    const inserted = await db.insertInto('users').values(rows).returning(['id', 'discord_id']).execute();
    await db
      .insertInto('accounts')
      .values(inserted.map((u) => ({ id: u.id, kind: 'user' as const })))
      .execute();
    users.push(...inserted);
  }
  return users;
}

/**
 * Mints `coins` to each wallet through the ledger (keys `seed:<id>`), all at once so the ledger batches them;
 * nothing when `coins` is 0.
 */
export async function fundWallets(ledger: Ledger, ids: string[], coins: number): Promise<void> {
  if (coins <= 0) return;
  await Promise.all(
    ids.map((id) =>
      ledger.transfer({
        key: `seed:${id}`,
        debit: SYSTEM_ACCOUNTS.mint,
        credit: id,
        amount: coins,
        reason: 'seed',
      }),
    ),
  );
}

/** `count` users with `coins` each in their wallet, minted through the ledger; returns their ids. */
export async function fundedUsers(
  db: Db,
  count: number,
  coins: number,
  startDiscordId?: bigint,
): Promise<string[]> {
  const ids = (await insertUsers(db, count, startDiscordId)).map((u) => String(u.id));
  await fundWallets(new Ledger(db), ids, coins);
  return ids;
}

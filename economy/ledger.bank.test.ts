/**
 * The bank test: many concurrent clients move coins at random among 100 users and the system accounts,
 * resubmitting some operations with the same key (sometimes at the same moment from another client).
 * Afterwards the ledger's invariants hold, no wallet is negative, and every key took effect exactly once:
 * each wallet's balance equals what the accepted operations, each counted once, add up to.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, transact, type Db } from '../db/client.ts';
import { createTestDatabase, insertUsers, fundWallets, type TestDatabase } from '../tests/helpers/db.ts';
import { applyInTransaction, Ledger, SYSTEM_ACCOUNTS, type LedgerOp, type LedgerResult } from './ledger.ts';
import { checkLedger } from './ledger-check.ts';

const USERS = 100;
const CLIENTS = 16;
const OPS_PER_CLIENT = 250;
const START_BALANCE = 1000;

let t: TestDatabase;
let users: string[];
const extraPools: Db[] = [];

beforeAll(async () => {
  t = await createTestDatabase(8);
  users = (await insertUsers(t.db, USERS)).map((u) => u.id);
  const seeder = new Ledger(t.db);
  await fundWallets(seeder, users, START_BALANCE);
});

afterAll(async () => {
  await Promise.all(extraPools.map((db) => db.destroy()));
  await t.drop();
});

/** A seeded random generator, so a failure can be replayed with the same BANK_SEED. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

it('keeps every invariant under concurrent random traffic with duplicate submissions', async () => {
  const seed = Number(process.env.BANK_SEED ?? Date.now() % 1_000_000);
  const random = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const expiresAt = new Date(Date.now() + 3_600_000);

  // Four "processes": each has its own pool and batching ledger; one client in four bypasses batching
  // and applies its operations in transactions of its own, as the market and daily claims do.
  const ledgers = await Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      if (i === 0) return new Ledger(t.db);
      const db = createDb(t.url, 6);
      extraPools.push(db);
      return new Ledger(db);
    }),
  );
  const submitted: LedgerOp[] = [];
  const outcomes = new Map<string, { op: LedgerOp; results: LedgerResult[] }>();
  const record = (op: LedgerOp, result: LedgerResult) => {
    const entry = outcomes.get(op.key) ?? { op, results: [] };
    entry.results.push(result);
    outcomes.set(op.key, entry);
  };
  const pendingHolds: { id: string; debit: string }[] = [];

  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const ledger = ledgers[client % ledgers.length]!;
      const direct = client % 4 === 3;
      const submit = async (op: LedgerOp) => {
        const result = direct
          ? (await transact(t.db, (trx) => applyInTransaction(trx, [op], new Date())))[0]!
          : await ledger.submit(op);
        record(op, result);
        return result;
      };
      for (let n = 0; n < OPS_PER_CLIENT; n++) {
        const key = `bank:${seed}:${client}:${n}`;
        const roll = random();
        let op: LedgerOp;
        if (roll < 0.15 && submitted.length > 0) {
          op = pick(submitted);
        } else if (roll < 0.45) {
          const from = pick(users);
          let to = pick(users);
          while (to === from) to = pick(users);
          op = {
            op: 'transfer',
            key,
            debit: from,
            credit: to,
            amount: 1 + Math.floor(random() * 300),
            reason: 'pay',
          };
        } else if (roll < 0.55) {
          op = {
            op: 'transfer',
            key,
            debit: SYSTEM_ACCOUNTS.mint,
            credit: pick(users),
            amount: 1 + Math.floor(random() * 50),
            reason: 'reward',
          };
        } else if (roll < 0.6) {
          op = {
            op: 'transfer',
            key,
            debit: pick(users),
            credit: SYSTEM_ACCOUNTS.burn,
            amount: 1 + Math.floor(random() * 50),
            reason: 'adjust',
          };
        } else if (roll < 0.8 || pendingHolds.length === 0) {
          op = {
            op: 'hold',
            key,
            debit: pick(users),
            amount: 1 + Math.floor(random() * 200),
            expiresAt,
            reason: 'purchase',
          };
        } else {
          const hold = pendingHolds.splice(Math.floor(random() * pendingHolds.length), 1)[0]!;
          if (random() < 0.6) {
            let seller = pick(users);
            while (seller === hold.debit) seller = pick(users);
            op = {
              op: 'post',
              key,
              pendingId: hold.id,
              credit: seller,
              fee: Math.floor(random() * 3),
              reason: 'sale',
            };
          } else {
            op = { op: 'void', key, pendingId: hold.id, reason: 'refund' };
          }
        }
        submitted.push(op);
        // Some submissions are doubled at the same moment, as a double click would.
        const results = await Promise.all(random() < 0.1 ? [submit(op), submit(op)] : [submit(op)]);
        const applied = results.find((r) => r.ok);
        if (op.op === 'hold' && applied?.ok && !applied.replayed)
          pendingHolds.push({ id: applied.transferId, debit: op.debit });
      }
    }),
  );

  // Every key: all its accepted submissions name the same transfer, and at most one transfer row exists.
  const rows = await t.db.selectFrom('transfers').select(['id', 'idempotency_key']).execute();
  const byKey = new Map(rows.map((r) => [r.idempotency_key, r.id]));
  let duplicates = 0;
  for (const [key, { results }] of outcomes) {
    const ids = new Set(results.flatMap((r) => (r.ok ? [r.transferId] : [])));
    expect(ids.size, key).toBeLessThanOrEqual(1);
    if (ids.size === 1) expect(byKey.get(key)).toBe([...ids][0]);
    else expect(byKey.has(key), key).toBe(false);
    if (results.length > 1) duplicates++;
  }
  expect(duplicates).toBeGreaterThan(100);

  // Replaying the accepted operations once each, on paper, gives every wallet's balance.
  const expected = new Map(users.map((u) => [u, START_BALANCE]));
  const add = (id: string, delta: number) => {
    if (expected.has(id)) expected.set(id, expected.get(id)! + delta);
  };
  const holds = new Map<string, { debit: string; amount: number }>();
  for (const { op, results } of outcomes.values()) {
    const first = results.find((r) => r.ok);
    if (!first?.ok || op.op !== 'hold') continue;
    holds.set(first.transferId, { debit: op.debit, amount: op.amount });
  }
  for (const { op, results } of outcomes.values()) {
    if (!results.some((r) => r.ok)) continue;
    if (op.op === 'transfer') {
      add(op.debit, -op.amount);
      add(op.credit, op.amount);
    } else if (op.op === 'hold') {
      add(op.debit, -op.amount);
    } else if (op.op === 'post') {
      add(op.credit, holds.get(op.pendingId)!.amount - (op.fee ?? 0));
    } else {
      const hold = holds.get(op.pendingId)!;
      add(hold.debit, hold.amount);
    }
  }
  const balances = await t.db
    .selectFrom('accounts')
    .select(['id', 'balance'])
    .where('kind', '=', 'user')
    .execute();
  for (const { id, balance } of balances)
    expect(Number(balance), `wallet ${id} (seed ${seed})`).toBe(expected.get(id));

  const report = await checkLedger(t.db);
  expect(report, `seed ${seed}`).toMatchObject({
    ok: true,
    sum: '0',
    negative_wallets: 0,
    wallet_mismatches: 0,
  });
  expect(report.transfers).toBeGreaterThan(CLIENTS * OPS_PER_CLIENT * 0.5);
});

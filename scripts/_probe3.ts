import { createDb } from '../db/client.ts';
import { applyInTransaction } from '../economy/ledger.ts';
const db = createDb('postgres://postgres@127.0.0.1:5432/coinhub_bench_ledger', 1);
const run = Date.now();
for (let n = 0; n < 20; n++) {
  const ops = Array.from({ length: 16 }, (_, i) => ({ op: 'transfer' as const, key: `q:${run}:${n}:${i}`, debit: String(1000 + Math.floor(Math.random() * 10000)), credit: String(1000 + Math.floor(Math.random() * 10000)), amount: 5, reason: 'b' }));
  const res = await applyInTransaction(db, ops, new Date());
  const bad = res.map((r, i) => [r, ops[i]]).filter(([r]) => !(r as { ok: boolean }).ok);
  if (bad.length) { console.log(JSON.stringify(bad)); break; }
}
await db.destroy();

import { createDb } from '../db/client.ts';
import { Ledger } from '../economy/ledger.ts';
const db = createDb('postgres://postgres@127.0.0.1:5432/coinhub_bench_ledger', 8);
const ledger = new Ledger(db);
const run = Date.now();
const ids = (await db.selectFrom('accounts').select('id').where('kind', '=', 'user').execute()).map((r) => r.id);
const pick = () => ids[Math.floor(Math.random() * ids.length)]!;
let bad = 0;
await Promise.all(Array.from({ length: 16 }, async (_, c) => {
  for (let n = 0; n < 200 && bad < 3; n++) {
    let from = pick(), to = pick(); while (to === from) to = pick();
    const r = await ledger.submit({ op: 'transfer', key: `w:${run}:${c}:${n}`, debit: from, credit: to, amount: 1, reason: 'b' });
    if (!r.ok) { bad++; console.log(r.code, from, to); }
  }
}));
await db.destroy();

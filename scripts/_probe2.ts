import { readFileSync } from 'node:fs';
import pg from 'pg';
const client = new pg.Client('postgres://postgres@127.0.0.1:5432/coinhub_bench_ledger');
await client.connect();
const pid = (await client.query('select pg_backend_pid() p')).rows[0].p;
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
for (const q of process.argv.slice(2)) {
  for (let n = 0; n < 10; n++) await client.query(q);
  const c0 = cpu();
  for (let n = 0; n < 300; n++) await client.query(q);
  console.log(((cpu() - c0) * 1000 / 300).toFixed(0), 'us', q.slice(0, 80));
}
await client.end();

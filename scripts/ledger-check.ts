/**
 * npm run ledger:check [-- --json] — verifies the ledger's invariants against DATABASE_URL.
 * Prints one JSON line with --json, a short report otherwise; exits 1 when the ledger is not consistent.
 */
import { ConfigError, loadDotEnv, parseDatabaseUrl } from '../config/env.ts';
import { createDb } from '../db/client.ts';
import { checkLedger } from '../economy/ledger-check.ts';

let databaseUrl: string;
try {
  loadDotEnv();
  databaseUrl = parseDatabaseUrl(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`coinhub: configuration error: ${err.message}\n`);
  process.exit(1);
}

const db = createDb(databaseUrl, 1);
try {
  const report = await checkLedger(db);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report));
  } else {
    console.log(
      `ledger ${report.ok ? 'OK' : 'INCONSISTENT'}: ${report.accounts} accounts, ${report.transfers} transfers`,
    );
    console.log(`  sum of all balances: ${report.sum} (must be 0)`);
    console.log(
      `  negative wallets: ${report.negative_wallets}, wallet mismatches: ${report.wallet_mismatches}`,
    );
    console.log(
      `  unbalanced holds: ${report.unbalanced_holds}, over-reversed transfers: ${report.over_reversed}`,
    );
    console.log(
      `  escrow: ${report.escrow_balance} held for ${report.pending_holds} pending holds (${report.pending_total})`,
    );
  }
  process.exitCode = report.ok ? 0 : 1;
} catch (err) {
  process.stderr.write(`ledger:check failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}

import { recordLedgerCheck } from '../../economy/ledger-check.ts';
import type { WorkerDeps } from '../deps.ts';

/** Runs the invariant check; a failure is logged at error level and recorded in ledger_checks. */
export async function handleLedgerCheck(deps: WorkerDeps): Promise<{ ok: boolean }> {
  const report = await recordLedgerCheck(deps.db);
  if (report.ok) deps.log.info({ report }, 'ledger check passed');
  else deps.log.error({ report }, 'ledger check FAILED: the ledger is inconsistent');
  return { ok: report.ok };
}

import { pruneIdempotencyKeys } from '../../db/idempotency.ts';
import { rollupStats } from '../../economy/stats.ts';
import type { WorkerDeps } from '../deps.ts';

/** Most rollup batches per run, so a long backlog (a restored database) is worked off over several runs. */
const MAX_BATCHES = 10;

/** Folds new transfers into the dashboard rollups and drops expired Idempotency-Key responses. */
export async function handleStatsRollup(
  deps: Pick<WorkerDeps, 'db' | 'log'>,
): Promise<{ transfers: number }> {
  let transfers = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await rollupStats(deps.db);
    transfers += n;
    if (n === 0) break;
  }
  const pruned = await pruneIdempotencyKeys(deps.db, new Date());
  if (pruned > 0) deps.log.info({ pruned }, 'expired idempotency keys dropped');
  return { transfers };
}

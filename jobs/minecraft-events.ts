import { minecraftDeliverJob, minecraftNoticeJob } from './definitions.ts';
import { attempt } from './market-events.ts';
import type { Queues } from './queues.ts';

/**
 * Producers' side of the Minecraft jobs. Each resolves false instead of throwing when Redis refuses: the
 * voucher is safe in the database and the sweeper queues its delivery again.
 */

/** Queues one delivery attempt; `cause` makes the job id unique per cause (redemption, join, sweep, admin). */
export function queueDelivery(queues: Queues, voucherId: string, cause: string): Promise<boolean> {
  return attempt(() =>
    queues.enqueue(minecraftDeliverJob, { voucherId }, { jobId: `mc-deliver-${voucherId}-${cause}` }),
  );
}

/** DMs the user that their account is linked (once per link, named by its time). */
export function notifyLinked(queues: Queues, userId: string, at: Date): Promise<boolean> {
  return attempt(() =>
    queues.enqueue(
      minecraftNoticeJob,
      { kind: 'linked', id: userId },
      { jobId: `mc-linked-${userId}-${at.getTime()}` },
    ),
  );
}

/** DMs the buyer their voucher code (once per voucher). */
export function notifyVoucher(queues: Queues, voucherId: string): Promise<boolean> {
  return attempt(() =>
    queues.enqueue(
      minecraftNoticeJob,
      { kind: 'voucher', id: voucherId },
      { jobId: `mc-voucher-${voucherId}` },
    ),
  );
}

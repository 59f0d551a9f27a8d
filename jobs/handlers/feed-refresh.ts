import { Routes } from 'discord-api-types/v10';
import { feedAnnotations, feedMessageFor, feedTransfersBetween } from '../../economy/feed.ts';
import { renderFeedMessage } from '../../discord/views/feed.ts';
import type { WorkerDeps } from '../deps.ts';

/**
 * Re-renders the feed message that shows a transaction, with its current state and the admin actions on it
 * (refunds, notes, frozen wallets). A transaction not posted yet needs nothing: the relay renders the same
 * state when it posts it.
 */
export async function handleFeedRefresh(
  deps: Pick<WorkerDeps, 'db' | 'rest'>,
  payload: { transferId: string },
): Promise<{ edited: boolean }> {
  const message = await feedMessageFor(deps.db, payload.transferId);
  if (!message) return { edited: false };
  const transfers = await feedTransfersBetween(deps.db, message.first_transfer_id, message.last_transfer_id);
  const annotations = await feedAnnotations(deps.db, transfers);
  await deps.rest.patch(Routes.channelMessage(message.channel_id, message.message_id), {
    body: renderFeedMessage(message.mode, transfers, annotations),
  });
  return { edited: true };
}

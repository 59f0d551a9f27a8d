import { DiscordAPIError } from '@discordjs/rest';
import { Routes, type APIChannel } from 'discord-api-types/v10';
import { UnrecoverableError } from 'bullmq';
import { marketFor } from '../../economy/market/market.ts';
import { getListing } from '../../economy/market/listings.ts';
import { getOrder } from '../../economy/market/orders.ts';
import { pruneEvents } from '../../economy/minecraft/events.ts';
import { renderCommand } from '../../economy/market/command-template.ts';
import {
  claimDelivery,
  deliveryOf,
  dueVouchers,
  getVoucher,
  moveVoucher,
} from '../../economy/minecraft/vouchers.ts';
import { MinecraftRefused, MinecraftUnavailable } from '../../minecraft/servertap.ts';
import type { PayloadOf, minecraftDeliverJob, minecraftNoticeJob } from '../definitions.ts';
import { followUpOrder } from '../market-events.ts';
import { queueDelivery } from '../minecraft-events.ts';
import type { WorkerDeps } from '../deps.ts';
import { systemActor } from '../../economy/rbac.ts';

export type MinecraftJobDeps = Pick<
  WorkerDeps,
  'cfg' | 'db' | 'log' | 'queues' | 'rest' | 'now' | 'minecraft'
>;

export type DeliveryOutcome = 'skipped' | 'waiting' | 'delivered' | 'refunded' | 'not_configured';

/** The order's escrow follows the delivery: posted when it succeeded, refunded when it failed for good. */
async function settle(deps: MinecraftJobDeps, orderId: string, delivered: boolean): Promise<void> {
  const market = marketFor(deps);
  const system = systemActor(`minecraft-deliver:${orderId}`);
  const result = delivered
    ? await market.completeDelivered(orderId, system)
    : await market.refundFailedDelivery(orderId, system);
  if (result.changed) {
    const event = delivered ? 'completed' : 'refunded';
    await followUpOrder(deps.queues, result.order, event, market.now(), result.restocked !== null);
  }
}

/**
 * Delivers a redeemed voucher: checks the player is online (offline → `waiting` until `player.join`), claims
 * the voucher (so one job sends it), runs the item's command, then posts the escrow. An unreachable server is
 * retried with backoff (the job throws); a command the server refuses fails for good and is refunded.
 */
export async function handleMinecraftDeliver(
  deps: MinecraftJobDeps,
  { voucherId }: PayloadOf<typeof minecraftDeliverJob>,
): Promise<{ outcome: DeliveryOutcome }> {
  const now = () => marketFor(deps).now();
  const found = await deliveryOf(deps.db, voucherId);
  if (!found) throw new UnrecoverableError(`voucher ${voucherId} does not exist`);
  const { voucher, template } = found;
  if (voucher.state !== 'queued' || found.orderState === 'refunded') return { outcome: 'skipped' };
  if (!deps.minecraft) {
    deps.log.warn({ voucherId }, 'MINECRAFT_API_URL is not set: the delivery waits in the queue');
    return { outcome: 'not_configured' };
  }
  try {
    const online = await deps.minecraft.onlinePlayers();
    if (!online.some((p) => p.uuid === voucher.playerUuid)) {
      await moveVoucher(deps.db, voucherId, ['queued'], 'waiting', now(), null);
      return { outcome: 'waiting' };
    }
  } catch (err) {
    if (err instanceof MinecraftUnavailable)
      await moveVoucher(deps.db, voucherId, ['queued'], 'queued', now(), err.message);
    throw err;
  }
  if (!(await claimDelivery(deps.db, voucherId, now()))) return { outcome: 'skipped' };
  const command = renderCommand(template, {
    player: voucher.playerName!,
    uuid: voucher.playerUuid!,
    qty: voucher.quantity,
  });
  try {
    await deps.minecraft.exec(command);
  } catch (err) {
    if (err instanceof MinecraftRefused) {
      await moveVoucher(deps.db, voucherId, ['sending'], 'failed', now(), err.message);
      deps.log.warn({ voucherId, status: err.status }, 'the server refused a delivery; refunding');
      await settle(deps, voucher.orderId, false);
      return { outcome: 'refunded' };
    }
    const why = err instanceof MinecraftUnavailable ? err.message : 'the delivery failed';
    await moveVoucher(deps.db, voucherId, ['sending'], 'queued', now(), why);
    throw err;
  }
  await moveVoucher(deps.db, voucherId, ['sending'], 'delivered', now());
  deps.log.info({ voucherId, orderId: voucher.orderId }, 'minecraft item delivered');
  await settle(deps, voucher.orderId, true);
  return { outcome: 'delivered' };
}

/** How long webhook ids are kept for deduplication (a signed event is only accepted for 5 minutes). */
const EVENT_MEMORY_MS = 24 * 3_600_000;

/**
 * What delayed jobs and a lost Redis may have missed: queued deliveries without a job get one, deliveries
 * that succeeded but whose order did not complete are completed, and claims whose worker vanished are flagged
 * `failed` for an admin, and webhook ids older than a day are forgotten. Unredeemed and undelivered vouchers
 * are refunded by the market's escrow expiry.
 */
export async function handleMinecraftSweep(
  deps: MinecraftJobDeps,
): Promise<{ requeued: number; completed: number; stuck: number; pruned: number }> {
  const now = marketFor(deps).now();
  const due = await dueVouchers(deps.db, now);
  const bucket = Math.floor(now.getTime() / 60_000);
  await Promise.all(due.requeue.map((id) => queueDelivery(deps.queues, id, `sweep-${bucket}`)));
  for (const { orderId } of due.complete) await settle(deps, orderId, true).catch(() => undefined);
  for (const id of due.stuck)
    deps.log.error({ voucherId: id }, 'a minecraft delivery got no answer; an admin must check it');
  const pruned = await pruneEvents(deps.db, new Date(now.getTime() - EVENT_MEMORY_MS));
  const total = {
    requeued: due.requeue.length,
    completed: due.complete.length,
    stuck: due.stuck.length,
    pruned,
  };
  if (total.requeued + total.completed + total.stuck + total.pruned > 0)
    deps.log.info(total, 'minecraft sweep');
  return total;
}

/** DMs a player: their account was linked, or the code of a voucher they bought. Refused DMs are dropped. */
export async function handleMinecraftNotice(
  deps: MinecraftJobDeps,
  { kind, id }: PayloadOf<typeof minecraftNoticeJob>,
): Promise<{ sent: boolean }> {
  let discordId: string | undefined;
  let content: string;
  if (kind === 'linked') {
    const user = await deps.db
      .selectFrom('users')
      .select(['discord_id', 'minecraft_name'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!user?.minecraft_name) return { sent: false };
    discordId = user.discord_id;
    content = `⛏️ Your Discord account is now linked to the Minecraft player **${user.minecraft_name}**. Use /unlink to undo it.`;
  } else {
    const voucher = await getVoucher(deps.db, id);
    if (!voucher) throw new UnrecoverableError(`voucher ${id} does not exist`);
    const order = await getOrder(deps.db, voucher.orderId);
    const listing = order && (await getListing(deps.db, order.listingId));
    const user = await deps.db
      .selectFrom('users')
      .select('discord_id')
      .where('id', '=', voucher.buyerId)
      .executeTakeFirstOrThrow();
    discordId = user.discord_id;
    content = [
      `🎟️ Your voucher for **${voucher.quantity} × ${listing?.title ?? 'a Minecraft item'}**: \`${voucher.code}\``,
      `Redeem it in game with \`/coinhub redeem ${voucher.code}\` before <t:${Math.floor(voucher.expiresAt.getTime() / 1000)}:f>; after that the coins come back to you.`,
    ].join('\n');
  }
  try {
    const channel = (await deps.rest.post(Routes.userChannels(), {
      body: { recipient_id: discordId },
    })) as APIChannel;
    await deps.rest.post(Routes.channelMessages(channel.id), {
      body: { content, allowed_mentions: { parse: [] } },
    });
    return { sent: true };
  } catch (err) {
    const code = err instanceof DiscordAPIError ? err.status : undefined;
    if (code !== undefined && code >= 400 && code < 500 && code !== 429) {
      deps.log.info({ kind, status: code }, 'minecraft DM refused by Discord');
      return { sent: false };
    }
    throw err;
  }
}

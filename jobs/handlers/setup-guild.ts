import { DiscordAPIError } from '@discordjs/rest';
import { Routes, type RESTPatchAPIWebhookWithTokenMessageJSONBody } from 'discord-api-types/v10';
import { UnrecoverableError, type Job } from 'bullmq';
import { setupGuild, type ChannelKey, type SetupReport } from '../../discord/setup.ts';
import { channelMention } from '../../discord/views/format.ts';
import { getGuildSettings, saveGuildLayout, withGuildLayoutLock } from '../../economy/guild-settings.ts';
import type { PayloadOf, setupGuildJob } from '../definitions.ts';
import { readInteractionToken } from '../interaction-tokens.ts';
import type { WorkerDeps } from '../deps.ts';

type Payload = PayloadOf<typeof setupGuildJob>;

const LABELS: Record<ChannelKey, string> = {
  hub: 'Coin Hub',
  shop: 'Shop',
  leaderboard: 'Leaderboard',
  transactions: 'Transactions (admins only)',
};

function summary(report: SetupReport): string {
  const lines = (Object.keys(LABELS) as ChannelKey[]).map(
    (key) =>
      `${LABELS[key]}: ${channelMention(report.channels[key])} (${report.created.includes(key) ? 'created' : 'reused'})`,
  );
  return [
    'Coinhub is set up.',
    ...lines,
    `Hub message ${report.hubMessage === 'posted' ? 'posted' : 'updated'} in ${channelMention(report.channels.hub)}.`,
  ].join('\n');
}

/** Why a Discord refusal cannot be fixed by retrying, in words an admin can act on. */
function permanentReason(err: unknown): string | undefined {
  if (!(err instanceof DiscordAPIError)) return undefined;
  if (err.status === 403)
    return 'the bot is missing permissions (it needs Manage Channels, Manage Roles and Send Messages).';
  if (err.status === 401) return 'the bot token was refused; check DISCORD_TOKEN.';
  if (err.status === 404) return 'the server was not found; is the bot still in it?';
  return undefined;
}

/**
 * Runs /setup: creates or reuses the channels and the hub message, stores their ids, then edits the deferred
 * response. Idempotent, so BullMQ may retry it; the last failure (or a permanent one) is reported to the admin.
 */
export async function handleSetupGuild(deps: WorkerDeps, payload: Payload, job: Job): Promise<SetupReport> {
  const editResponse = async (body: RESTPatchAPIWebhookWithTokenMessageJSONBody) => {
    const token = await readInteractionToken(deps.redis, deps.cfg.REDIS_PREFIX, payload.interactionId);
    if (!token) return; // the 15 minutes are over; the admin sees the outcome in the channels themselves
    await deps.rest.patch(Routes.webhookMessage(payload.applicationId, token), { body, auth: false });
  };
  try {
    // The Discord calls run under the lock: a second /setup waits and then finds what the first one made.
    const report = await withGuildLayoutLock(deps.db, payload.guildId, async (trx) => {
      const known = await getGuildSettings(trx, payload.guildId);
      const done = await setupGuild(deps.rest, {
        guildId: payload.guildId,
        botUserId: payload.applicationId,
        known: {
          channels: {
            hub: known?.hubChannelId,
            shop: known?.shopChannelId,
            leaderboard: known?.leaderboardChannelId,
            transactions: known?.txChannelId,
          },
          hubMessageId: known?.hubMessageId ?? null,
        },
      });
      await saveGuildLayout(trx, payload.guildId, {
        hubChannelId: done.channels.hub,
        shopChannelId: done.channels.shop,
        leaderboardChannelId: done.channels.leaderboard,
        txChannelId: done.channels.transactions,
        hubMessageId: done.hubMessageId,
      });
      return done;
    });
    await editResponse({ content: summary(report), allowed_mentions: { parse: [] } });
    deps.log.info(
      { guildId: payload.guildId, created: report.created, hub: report.hubMessage },
      'guild set up',
    );
    return report;
  } catch (err) {
    const permanent = permanentReason(err);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (permanent || lastAttempt) {
      await editResponse({
        content: `Setup failed: ${permanent ?? 'Discord did not answer; try /setup again.'}`,
      }).catch((editErr: unknown) => deps.log.warn({ err: editErr }, 'could not report the setup failure'));
    }
    if (permanent) throw new UnrecoverableError(`setup failed: ${permanent}`);
    throw err;
  }
}

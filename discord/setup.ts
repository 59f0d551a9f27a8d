import { DiscordAPIError, type REST } from '@discordjs/rest';
import {
  ChannelType,
  OverwriteType,
  PermissionFlagsBits,
  Routes,
  type APIGuildChannel,
  type APIMessage,
  type RESTPostAPIGuildChannelJSONBody,
} from 'discord-api-types/v10';
import { HUB_BUTTONS, renderHub } from './views/hub.ts';

/** The channels /setup creates or reuses. `#coin-transactions` is for admins only. */
export const COINHUB_CHANNELS = [
  {
    key: 'hub',
    name: 'coin-hub',
    topic: 'Open the Coin Hub: your card, the shop, quests and your daily reward.',
  },
  { key: 'shop', name: 'shop', topic: 'Marketplace listings; buy with the buttons.' },
  { key: 'leaderboard', name: 'leaderboard', topic: 'The richest and most active members.' },
  {
    key: 'transactions',
    name: 'coin-transactions',
    topic: 'Every coin movement, for admins.',
    adminOnly: true,
  },
] as const;

export type ChannelKey = (typeof COINHUB_CHANNELS)[number]['key'];

export interface GuildLayout {
  channels: Record<ChannelKey, string>;
  hubMessageId: string;
}

export interface KnownLayout {
  channels: Partial<Record<ChannelKey, string | null>>;
  hubMessageId: string | null;
}

export interface SetupReport extends GuildLayout {
  created: ChannelKey[];
  reused: ChannelKey[];
  hubMessage: 'posted' | 'updated';
}

const BOT_CHANNEL_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.ReadMessageHistory;

/** @everyone (whose role id is the guild id) cannot see the channel; the bot can. Administrators see every channel. */
function adminOnlyOverwrites(guildId: string, botUserId: string) {
  return [
    { id: guildId, type: OverwriteType.Role, allow: '0', deny: PermissionFlagsBits.ViewChannel.toString() },
    { id: botUserId, type: OverwriteType.Member, allow: BOT_CHANNEL_PERMISSIONS.toString(), deny: '0' },
  ];
}

const isStatus = (err: unknown, status: number) => err instanceof DiscordAPIError && err.status === status;

async function ensureChannels(
  rest: REST,
  guildId: string,
  botUserId: string,
  known: KnownLayout['channels'],
): Promise<{ ids: Record<ChannelKey, string>; created: ChannelKey[]; reused: ChannelKey[] }> {
  const existing = (await rest.get(Routes.guildChannels(guildId))) as APIGuildChannel[];
  const text = existing.filter((c) => c.type === ChannelType.GuildText);
  const ids = {} as Record<ChannelKey, string>;
  const created: ChannelKey[] = [];
  const reused: ChannelKey[] = [];
  for (const spec of COINHUB_CHANNELS) {
    const overwrites = 'adminOnly' in spec ? adminOnlyOverwrites(guildId, botUserId) : undefined;
    const found = text.find((c) => c.id === known[spec.key]) ?? text.find((c) => c.name === spec.name);
    if (found) {
      ids[spec.key] = found.id;
      reused.push(spec.key);
      // A reused channel may have been opened up by hand; put the admin-only overwrites back.
      for (const { id, ...overwrite } of overwrites ?? []) {
        await rest.put(Routes.channelPermission(found.id, id), { body: overwrite });
      }
      continue;
    }
    const body: RESTPostAPIGuildChannelJSONBody = {
      name: spec.name,
      type: ChannelType.GuildText,
      topic: spec.topic,
      ...(overwrites ? { permission_overwrites: overwrites } : {}),
    };
    const channel = (await rest.post(Routes.guildChannels(guildId), { body })) as APIGuildChannel;
    ids[spec.key] = channel.id;
    created.push(spec.key);
  }
  return { ids, created, reused };
}

const isHubMessage = (m: APIMessage, botUserId: string) =>
  m.author.id === botUserId &&
  (m.components ?? []).some(
    (row) =>
      'components' in row && row.components.some((c) => 'custom_id' in c && c.custom_id === HUB_BUTTONS.card),
  );

/** Edits the known hub message, or one the bot posted earlier in the channel, or posts a new one. */
async function ensureHubMessage(
  rest: REST,
  channelId: string,
  botUserId: string,
  knownMessageId: string | null,
): Promise<{ id: string; action: 'posted' | 'updated' }> {
  const body = renderHub();
  let candidate = knownMessageId;
  if (!candidate) {
    const recent = (await rest.get(Routes.channelMessages(channelId), {
      query: new URLSearchParams({ limit: '50' }),
    })) as APIMessage[];
    candidate = recent.find((m) => isHubMessage(m, botUserId))?.id ?? null;
  }
  if (candidate) {
    try {
      await rest.patch(Routes.channelMessage(channelId, candidate), { body });
      return { id: candidate, action: 'updated' };
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }
  const message = (await rest.post(Routes.channelMessages(channelId), { body })) as APIMessage;
  return { id: message.id, action: 'posted' };
}

/**
 * Creates or reuses the Coinhub channels and posts or updates the persistent hub message. Idempotent: a second
 * run (or a retry after a crash) finds everything the first one made, by stored id or by name.
 */
export async function setupGuild(
  rest: REST,
  options: { guildId: string; botUserId: string; known: KnownLayout },
): Promise<SetupReport> {
  const { ids, created, reused } = await ensureChannels(
    rest,
    options.guildId,
    options.botUserId,
    options.known.channels,
  );
  const sameHubChannel = options.known.channels.hub === ids.hub;
  const hub = await ensureHubMessage(
    rest,
    ids.hub,
    options.botUserId,
    sameHubChannel ? options.known.hubMessageId : null,
  );
  return { channels: ids, hubMessageId: hub.id, created, reused, hubMessage: hub.action };
}

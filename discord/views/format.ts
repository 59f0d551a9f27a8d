/** Small text helpers shared by the message views. */

export { coins, formatNumber } from '../../economy/words.ts';

/** Discord's relative time markup, rendered in each reader's locale ("in 5 hours", "2 days ago"). */
export const relativeTime = (at: Date): string => `<t:${Math.floor(at.getTime() / 1000)}:R>`;

export const mention = (discordId: string): string => `<@${discordId}>`;

export const channelMention = (channelId: string): string => `<#${channelId}>`;

/** Brand colour of every Coinhub embed. */
export const COLOR = 0xf1c40f;
export const COLOR_ERROR = 0xe74c3c;
export const COLOR_OK = 0x2ecc71;

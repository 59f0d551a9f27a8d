/** Small text helpers shared by the message views. */

/** `1 coin`, `1,250 coins`. */
export const coins = (n: number): string =>
  `${n.toLocaleString('en-US')} ${Math.abs(n) === 1 ? 'coin' : 'coins'}`;

/** Discord's relative time markup, rendered in each reader's locale ("in 5 hours", "2 days ago"). */
export const relativeTime = (at: Date): string => `<t:${Math.floor(at.getTime() / 1000)}:R>`;

export const mention = (discordId: string): string => `<@${discordId}>`;

export const channelMention = (channelId: string): string => `<#${channelId}>`;

/** Brand colour of every Coinhub embed. */
export const COLOR = 0xf1c40f;
export const COLOR_ERROR = 0xe74c3c;
export const COLOR_OK = 0x2ecc71;

/** Masked links `[text](target)`, angle-bracketed and bare URLs, invite links. */
const MASKED_LINK = /\[([^\]]*)\]\s*\(\s*<?[^)\s]*>?\s*\)/g;
const BARE_LINK = /<?\b(?:[a-z][a-z0-9+.-]*:\/\/|www\.|discord\.gg\/)[^\s>]*>?/gi;
/** Every character Discord's markdown gives a meaning to (a backslash before any of them shows it as typed). */
const MARKDOWN = /[\\*_~`|>#\-[\]()<@:!]/g;

/**
 * Text a player wrote, made safe to show as the bot's own message: links are removed (a masked link keeps only
 * its words) and markdown is escaped, so it reads as plain text: no headings, no mentions, nothing clickable.
 */
export const playerText = (text: string): string =>
  text
    .replace(MASKED_LINK, '$1')
    .replace(BARE_LINK, '(link removed)')
    .replace(MARKDOWN, (c) => `\\${c}`);

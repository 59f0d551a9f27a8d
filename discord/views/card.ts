import type { APIEmbed } from 'discord-api-types/v10';
import { coins, COLOR, formatNumber, mention, relativeTime } from './format.ts';

export interface CardTransaction {
  /** +1 when coins came in, -1 when they left. */
  sign: 1 | -1;
  amount: number;
  reason: string;
  memo: string | null;
  counterparty: { kind: 'user'; discordId: string; name: string } | { kind: 'system'; code: string };
  at: Date;
}

export interface PlayerCardView {
  discordId: string;
  name: string;
  avatarUrl: string | null;
  balance: number;
  held: number;
  streak: { current: number; best: number };
  recent: CardTransaction[];
  /** The linked Minecraft player, or null. */
  minecraftName: string | null;
}

const SYSTEM_NAMES: Record<string, string> = {
  mint: 'Coinhub',
  escrow: 'Escrow',
  fees: 'Market fees',
  burn: 'Coinhub (removed)',
};

const REASONS: Record<string, string> = {
  daily: 'Daily reward',
  pay: 'Payment',
  quest: 'Quest reward',
  admin_adjust: 'Admin adjustment',
  market_purchase: 'Marketplace purchase',
  market_sale: 'Marketplace sale',
  minecraft_reward: 'Minecraft reward',
  refund: 'Refund',
};

const label = (reason: string) => REASONS[reason] ?? reason.replaceAll('_', ' ');

function transactionLine(t: CardTransaction): string {
  const who =
    t.counterparty.kind === 'user'
      ? `${t.sign > 0 ? 'from' : 'to'} ${mention(t.counterparty.discordId)}`
      : (SYSTEM_NAMES[t.counterparty.code] ?? t.counterparty.code);
  const memo = t.memo ? ` · “${t.memo.slice(0, 60)}”` : '';
  return `\`${t.sign > 0 ? '+' : '-'}${formatNumber(t.amount)}\` ${label(t.reason)} · ${who}${memo} · ${relativeTime(t.at)}`;
}

const days = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;

/** My Card: balance, escrow, streak and the latest transactions, each with sign, counterparty and relative time. */
export function renderPlayerCard(card: PlayerCardView): APIEmbed {
  return {
    author: { name: card.name, ...(card.avatarUrl ? { icon_url: card.avatarUrl } : {}) },
    title: 'My Card',
    color: COLOR,
    description: `Card of ${mention(card.discordId)}`,
    fields: [
      { name: 'Balance', value: coins(card.balance), inline: true },
      { name: 'Held in escrow', value: coins(card.held), inline: true },
      {
        name: 'Streak',
        value: `${days(card.streak.current)} (best ${days(card.streak.best)})`,
        inline: true,
      },
      {
        name: 'Minecraft',
        value: card.minecraftName ? `⛏️ ${card.minecraftName}` : 'Not linked (use /link)',
        inline: true,
      },
      {
        name: 'Latest transactions',
        value: card.recent.length > 0 ? card.recent.map(transactionLine).join('\n') : 'No transactions yet.',
      },
    ],
  };
}

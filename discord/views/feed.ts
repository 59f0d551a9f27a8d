import {
  ButtonStyle,
  ComponentType,
  TextInputStyle,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  type APIModalInteractionResponseCallbackData,
} from 'discord-api-types/v10';
import type { FeedAnnotation, FeedParty, FeedTransfer } from '../../economy/feed.ts';
import { coins, COLOR, COLOR_ERROR, COLOR_OK, formatNumber, mention, relativeTime } from './format.ts';

/** custom_id prefixes of the feed's buttons, menus and modals; handlers in functions/interactions. */
export const FEED_IDS = {
  refund: 'feed:refund',
  refundConfirm: 'feed:refund:confirm',
  orderRefund: 'feed:order:refund',
  orderFulfil: 'feed:order:fulfil',
  listingCancel: 'feed:listing:cancel',
  freeze: 'feed:freeze',
  unfreeze: 'feed:unfreeze',
  note: 'feed:note',
  pick: 'feed:pick',
  pickById: 'feed:pick:id',
  dismiss: 'feed:dismiss',
} as const;

/** Discord's limits: 10 embeds, 6,000 characters of embed text per message, 4,096 per description. */
export const MAX_EMBEDS = 10;
const MAX_EMBED_TOTAL = 6000;
const MAX_DESCRIPTION = 4096;
/**
 * Compact messages are planned to this size, leaving room for the title and for admin lines an edit adds
 * later. Lines run ~65 characters (~90 with the longest names), so a message carries 60 to 80 transactions
 * and 5 messages per 5 s carry more than 50 transactions/s.
 */
export const LINES_BUDGET = 5400;

export type FeedMode = 'embeds' | 'lines';

type Row = APIActionRowComponent<APIComponentInMessageActionRow>;

export interface FeedMessageBody {
  content?: string;
  embeds: APIEmbed[];
  components: Row[];
  allowed_mentions: { parse: [] };
}

const REASONS: Record<string, string> = {
  daily: 'Daily reward',
  pay: 'Payment',
  admin_adjust: 'Admin adjustment',
  quest: 'Quest reward',
  refund: 'Refund',
  market_purchase: 'Purchase',
};

const humanize = (reason: string) => {
  const text = reason.replace(/[_.-]+/g, ' ').trim();
  return text.length > 0 ? text[0]!.toUpperCase() + text.slice(1) : 'Transfer';
};

/** What a transfer is, in words: "Payment", "Escrow hold", "Market fee", … */
export function kindLabel(t: Pick<FeedTransfer, 'phase' | 'reason' | 'reversesId'>): string {
  switch (t.phase) {
    case 'pending':
      return t.reason === 'market_purchase' ? 'Escrow hold (purchase)' : 'Escrow hold';
    case 'void':
      return 'Escrow refunded';
    case 'post':
      if (t.reason === 'fee') return 'Market fee';
      if (t.reason === 'partial_post_remainder') return 'Escrow remainder returned';
      return 'Escrow paid out';
    case 'single':
      return t.reversesId !== null ? 'Refund' : (REASONS[t.reason] ?? humanize(t.reason));
  }
}

function kindColor(t: FeedTransfer): number {
  if (t.phase === 'void' || t.reversesId !== null) return 0xe67e22;
  if (t.phase === 'pending') return 0x3498db;
  if (t.phase === 'post') return COLOR_OK;
  if (t.reason === 'admin_adjust') return 0x9b59b6;
  return COLOR;
}

/** Markdown-safe plain name for compact lines (usernames may contain `_` and `.`). */
const plain = (name: string) => name.replace(/([\\*_~`|>[\]()])/g, '\\$1');

const who = (p: FeedParty) => (p.discordId ? mention(p.discordId) : `**${p.name}**`);
/** Names in compact lines are cut to keep every line short enough for ~60 lines a message. */
const COMPACT_NAME = 20;
const whoPlain = (p: FeedParty) => {
  const name = p.name.length > COMPACT_NAME ? `${p.name.slice(0, COMPACT_NAME - 1)}…` : p.name;
  return p.discordId ? `@${plain(name)}` : plain(name);
};

function reference(t: FeedTransfer): string[] {
  const parts: string[] = [];
  const ref = t.ref ?? {};
  if (t.order) parts.push(`Order #${t.order.id} (${t.order.state})`);
  if (t.listing) parts.push(`Listing #${t.listing.id} (${t.listing.state})`);
  else if (typeof ref.listingId === 'string' || typeof ref.listingId === 'number') {
    parts.push(`Listing #${ref.listingId}`);
  }
  if (typeof ref.quantity === 'number') parts.push(`× ${ref.quantity}`);
  if (t.phase === 'post' || t.phase === 'void') parts.push(`Hold #${t.holdId}`);
  if (t.reversesId !== null) parts.push(`Reverses #${t.reversesId}`);
  return parts;
}

function annotationLine(a: FeedAnnotation): string {
  const by = a.actorDiscordId ? mention(a.actorDiscordId) : 'the system';
  const when = relativeTime(a.at);
  switch (a.action) {
    case 'tx.refund': {
      const amount = typeof a.after?.amount === 'number' ? ` ${coins(a.after.amount)}` : '';
      return `↩️ Refunded${amount} by ${by} ${when}${a.reason ? ` — ${a.reason}` : ''}`;
    }
    case 'tx.note':
      return `📝 ${by}: ${String(a.after?.note ?? '')}`;
    case 'market.order.admin_refund':
      return `↩️ Order #${a.target.id} refunded by ${by} ${when}${a.reason ? ` — ${a.reason}` : ''}`;
    case 'market.order.admin_fulfil':
      return `✅ Order #${a.target.id} fulfilled by ${by} ${when}${a.reason ? ` — ${a.reason}` : ''}`;
    case 'market.listing.remove':
      return `🛑 Listing #${a.target.id} cancelled by ${by} ${when}${a.reason ? ` — ${a.reason}` : ''}`;
    default:
      return `• ${a.action} by ${by} ${when}${a.reason ? ` — ${a.reason}` : ''}`;
  }
}

function frozenLines(t: FeedTransfer): string[] {
  return [t.from, t.to]
    .filter((p, i, all) => p.frozen && all.findIndex((q) => q.accountId === p.accountId) === i)
    .map(
      (p) => `🧊 ${who(p)} is frozen${p.frozenByDiscordId ? ` (by ${mention(p.frozenByDiscordId)})` : ''}`,
    );
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The full embed of one transaction: kind, from → to, amount, balances after, reference, actor, time. */
export function transferEmbed(t: FeedTransfer, annotations: FeedAnnotation[] = []): APIEmbed {
  const balances = [
    t.fromBalanceAfter !== null ? `${who(t.from)} ${formatNumber(t.fromBalanceAfter)}` : null,
    t.toBalanceAfter !== null ? `${who(t.to)} ${formatNumber(t.toBalanceAfter)}` : null,
  ].filter((x) => x !== null);
  const fields: NonNullable<APIEmbed['fields']> = [
    { name: 'Amount', value: coins(t.amount), inline: true },
    { name: 'Balance after', value: balances.length > 0 ? balances.join(' · ') : '—', inline: true },
  ];
  const ref = reference(t);
  if (ref.length > 0) fields.push({ name: 'Reference', value: ref.join(' · '), inline: true });
  if (t.actor) fields.push({ name: 'Actor', value: mention(t.actor.discordId), inline: true });
  if (t.phase === 'pending') fields.push({ name: 'Hold', value: t.holdState ?? 'pending', inline: true });
  const admin = [...frozenLines(t), ...annotations.map(annotationLine)];
  if (admin.length > 0) fields.push({ name: 'Admin', value: clip(admin.join('\n'), 1024) });
  return {
    title: `#${t.id} · ${kindLabel(t)}`,
    description: `${who(t.from)} → ${who(t.to)}`,
    color: kindColor(t),
    fields,
    ...(t.memo ? { footer: { text: clip(t.memo, 200) } } : {}),
    timestamp: t.createdAt.toISOString(),
  };
}

/** One compact line per transaction, used when the feed is behind. */
export function transferLine(t: FeedTransfer): string {
  const balances = [t.fromBalanceAfter, t.toBalanceAfter]
    .map((b) => (b === null ? '–' : formatNumber(b)))
    .join(' / ');
  const kind = t.phase === 'single' ? (t.reversesId !== null ? 'refund' : t.reason) : SHORT_PHASE[t.phase];
  return `\`#${t.id}\` ${plain(kind)} ${whoPlain(t.from)} → ${whoPlain(t.to)} **${formatNumber(t.amount)}** (${balances})`;
}

const SHORT_PHASE = { pending: 'hold', post: 'payout', void: 'hold refunded' } as const;

/** How many of `transfers` (in order) fit in one compact message. At least one. */
export function linesThatFit(transfers: FeedTransfer[], budget = LINES_BUDGET): number {
  let used = 0;
  let n = 0;
  for (const t of transfers) {
    const len = transferLine(t).length + 1;
    if (n > 0 && used + len > budget) break;
    used += len;
    n++;
  }
  return n;
}

function button(
  custom_id: string,
  label: string,
  style: APIButtonComponentWithCustomId['style'],
): APIButtonComponentWithCustomId {
  return { type: ComponentType.Button, custom_id, label: clip(label, 80), style };
}

const OPEN_ORDER = new Set(['pending', 'delivered', 'disputed']);
const OPEN_LISTING = new Set(['active', 'paused']);

/**
 * The action buttons one transaction allows: Refund (through its order when it has one), Fulfil for an open
 * order, Cancel for an open listing, Note, and Freeze/Unfreeze for each user involved.
 */
export function transferButtons(t: FeedTransfer): Row[] {
  const main: APIButtonComponentWithCustomId[] = [];
  if (t.order) {
    if (t.refundable) {
      main.push(button(`${FEED_IDS.orderRefund}:${t.order.id}:${t.id}`, 'Refund', ButtonStyle.Danger));
    }
    if (OPEN_ORDER.has(t.order.state)) {
      main.push(button(`${FEED_IDS.orderFulfil}:${t.order.id}:${t.id}`, 'Fulfil', ButtonStyle.Success));
    }
  } else if (t.refundable) {
    main.push(button(`${FEED_IDS.refund}:${t.id}`, 'Refund', ButtonStyle.Danger));
  }
  if (t.listing && OPEN_LISTING.has(t.listing.state)) {
    main.push(
      button(`${FEED_IDS.listingCancel}:${t.listing.id}:${t.id}`, 'Cancel listing', ButtonStyle.Secondary),
    );
  }
  main.push(button(`${FEED_IDS.note}:${t.id}`, 'Note', ButtonStyle.Secondary));
  const users = [t.from, t.to].filter(
    (p, i, all) => p.userId !== null && all.findIndex((q) => q.accountId === p.accountId) === i,
  );
  const freeze = users.map((p) =>
    button(
      `${p.frozen ? FEED_IDS.unfreeze : FEED_IDS.freeze}:${p.userId}:${t.id}`,
      `${p.frozen ? 'Unfreeze' : 'Freeze'} ${p.name}`,
      p.frozen ? ButtonStyle.Success : ButtonStyle.Secondary,
    ),
  );
  const rows: Row[] = [{ type: ComponentType.ActionRow, components: main }];
  if (freeze.length > 0) rows.push({ type: ComponentType.ActionRow, components: freeze });
  return rows;
}

function pickMenu(transfers: FeedTransfer[]): Row {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.StringSelect,
        custom_id: FEED_IDS.pick,
        placeholder: 'Act on a transaction…',
        options: transfers.slice(0, 25).map((t) => ({
          label: clip(`#${t.id} ${kindLabel(t)} · ${formatNumber(t.amount)}`, 100),
          description: clip(`${t.from.name} → ${t.to.name}`, 100),
          value: t.id,
        })),
      },
    ],
  };
}

const pickByIdButton = (): Row => ({
  type: ComponentType.ActionRow,
  components: [button(FEED_IDS.pickById, 'Act on a transaction…', ButtonStyle.Secondary)],
});

/**
 * A feed message. `embeds` mode: one embed per transaction (up to 10) with its buttons when it is alone,
 * a menu to pick one otherwise. `lines` mode: one compact line each, and a button that asks for the id.
 */
export function renderFeedMessage(
  mode: FeedMode,
  transfers: FeedTransfer[],
  annotations: Map<string, FeedAnnotation[]> = new Map(),
): FeedMessageBody {
  if (mode === 'embeds') {
    const shown = transfers.slice(0, MAX_EMBEDS);
    const embeds = fitEmbeds(shown.map((t) => transferEmbed(t, annotations.get(t.id))));
    const components =
      shown.length === 1 ? transferButtons(shown[0]!) : shown.length > 1 ? [pickMenu(shown)] : [];
    return { embeds, components, allowed_mentions: { parse: [] } };
  }
  const lines = transfers.map(transferLine);
  const embeds: APIEmbed[] = [];
  let chunk: string[] = [];
  let chunkLen = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    embeds.push({ description: chunk.join('\n'), color: COLOR });
    chunk = [];
    chunkLen = 0;
  };
  for (const line of lines) {
    if (chunkLen + line.length + 1 > MAX_DESCRIPTION - 100) flush();
    chunk.push(line);
    chunkLen += line.length + 1;
  }
  flush();
  if (embeds[0] && transfers.length > 0) {
    embeds[0].title = `Transactions #${transfers[0]!.id} – #${transfers[transfers.length - 1]!.id} (${transfers.length})`;
    embeds[0].timestamp = transfers[transfers.length - 1]!.createdAt.toISOString();
  }
  const admin = transfers.flatMap((t) => [
    ...frozenLines(t).map((l) => `\`#${t.id}\` ${l}`),
    ...(annotations.get(t.id) ?? []).map((a) => `\`#${t.id}\` ${annotationLine(a)}`),
  ]);
  if (admin.length > 0) {
    const used = embeds.reduce((n, e) => n + (e.title?.length ?? 0) + (e.description?.length ?? 0), 0);
    const room = Math.min(MAX_DESCRIPTION, MAX_EMBED_TOTAL - used - 50);
    if (room > 20)
      embeds.push({ title: 'Admin', description: clip(admin.join('\n'), room), color: COLOR_ERROR });
  }
  return { embeds, components: [pickByIdButton()], allowed_mentions: { parse: [] } };
}

/** Keeps a set of full embeds under Discord's 6,000-character total by clipping the longest fields. */
function fitEmbeds(embeds: APIEmbed[]): APIEmbed[] {
  const size = (e: APIEmbed) =>
    (e.title?.length ?? 0) +
    (e.description?.length ?? 0) +
    (e.footer?.text.length ?? 0) +
    (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
  let total = embeds.reduce((n, e) => n + size(e), 0);
  for (const e of embeds) {
    if (total <= MAX_EMBED_TOTAL) break;
    const admin = e.fields?.find((f) => f.name === 'Admin');
    if (!admin) continue;
    const cut = Math.min(admin.value.length - 20, total - MAX_EMBED_TOTAL);
    if (cut > 0) {
      admin.value = clip(admin.value, admin.value.length - cut);
      total -= cut;
    }
  }
  return embeds;
}

/** The private panel for one transaction picked from a coalesced message: its embed and buttons. */
export function renderTransferPanel(t: FeedTransfer, annotations: FeedAnnotation[] = []) {
  return { embeds: [transferEmbed(t, annotations)], components: transferButtons(t) };
}

/** "Refund #12?" with Confirm and Keep. */
export function renderRefundConfirm(t: FeedTransfer) {
  const what =
    t.phase === 'pending' && t.holdState === 'pending'
      ? `Void escrow hold **#${t.id}**: ${coins(t.amount)} go back to ${who(t.from)}.`
      : t.phase === 'pending'
        ? `Reverse the payouts of escrow hold **#${t.id}**: the coins go back to ${who(t.from)}.`
        : `Refund **#${t.id}** (${kindLabel(t)}): up to ${coins(t.amount - t.reversed)} go from ${who(t.to)} back to ${
            t.phase === 'post' ? 'the buyer' : who(t.from)
          }.`;
  return {
    embeds: [{ title: 'Confirm refund', description: what, color: COLOR_ERROR }],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          button(`${FEED_IDS.refundConfirm}:${t.id}`, 'Refund', ButtonStyle.Danger),
          button(FEED_IDS.dismiss, 'Keep', ButtonStyle.Secondary),
        ],
      },
    ] satisfies Row[],
  };
}

const textModal = (
  custom_id: string,
  title: string,
  label: string,
  required: boolean,
  placeholder: string,
): APIModalInteractionResponseCallbackData => ({
  custom_id,
  title: clip(title, 45),
  components: [
    {
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.TextInput,
          custom_id: 'text',
          label,
          style: TextInputStyle.Paragraph,
          required,
          max_length: 500,
          placeholder,
        },
      ],
    },
  ],
});

/** The modal that asks why a wallet is frozen or unfrozen; submitting it is the confirmation. */
export const freezeModal = (userId: string, transferId: string, name: string, unfreeze: boolean) =>
  textModal(
    `${unfreeze ? FEED_IDS.unfreeze : FEED_IDS.freeze}:${userId}:${transferId}`,
    `${unfreeze ? 'Unfreeze' : 'Freeze'} ${name}`,
    'Reason (goes to the audit log)',
    !unfreeze,
    unfreeze ? 'Why the wallet is released' : 'Why the wallet is frozen',
  );

const MARKET_ACTIONS = {
  [FEED_IDS.orderRefund]: { title: 'Refund order', hint: 'The buyer gets the coins back' },
  [FEED_IDS.orderFulfil]: { title: 'Fulfil order', hint: 'The seller is paid from escrow' },
  [FEED_IDS.listingCancel]: { title: 'Cancel listing', hint: 'Nobody can buy it any more' },
} as const;

export type MarketAction = keyof typeof MARKET_ACTIONS;

/** The modal that confirms a market action on the feed and asks its reason (the market audits it). */
export const marketActionModal = (prefix: MarketAction, targetId: string, transferId: string) =>
  textModal(
    `${prefix}:${targetId}:${transferId}`,
    `${MARKET_ACTIONS[prefix].title} #${targetId}`,
    'Reason (goes to the audit log)',
    true,
    MARKET_ACTIONS[prefix].hint,
  );

export const noteModal = (transferId: string) =>
  textModal(
    `${FEED_IDS.note}:${transferId}`,
    `Note on #${transferId}`,
    'Note',
    true,
    'Shown on the feed entry',
  );

export const pickByIdModal = (): APIModalInteractionResponseCallbackData => ({
  custom_id: FEED_IDS.pickById,
  title: 'Act on a transaction',
  components: [
    {
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.TextInput,
          custom_id: 'text',
          label: 'Transaction number (the #id on the feed)',
          style: TextInputStyle.Short,
          required: true,
          max_length: 20,
          placeholder: '1234',
        },
      ],
    },
  ],
});

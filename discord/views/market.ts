import {
  ButtonStyle,
  ComponentType,
  TextInputStyle,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  type APIModalInteractionResponseCallbackData,
  type APITextInputComponent,
} from 'discord-api-types/v10';
import type { ListingPage, ListingSort } from '../../economy/market/listings.ts';
import type { CatalogItem, Listing, Order, OrderState } from '../../economy/market/types.ts';
import { COLOR, COLOR_ERROR, COLOR_OK, coins, mention, playerText, relativeTime } from './format.ts';

/** custom_id prefixes of the market's components and modals; ids follow after a `:`. */
export const MARKET_IDS = {
  buy: 'market:buy',
  quantity: 'market:qty',
  confirm: 'market:confirm',
  cancel: 'market:cancel',
  open: 'market:open',
  page: 'market:page',
  order: 'market:order',
  dispute: 'market:dispute',
  sell: 'market:sell',
  mine: 'market:mine',
  pause: 'market:pause',
  resume: 'market:resume',
  reprice: 'market:reprice',
  price: 'market:price',
  end: 'market:end',
  endConfirm: 'market:endok',
  endKeep: 'market:endno',
} as const;

export type OrderAction = 'deliver' | 'received' | 'scancel' | 'bcancel' | 'dispute';

type Row = APIActionRowComponent<APIComponentInMessageActionRow>;
export interface MessageView {
  embeds: APIEmbed[];
  components: Row[];
}

/** Most units one confirm step offers in its quantity menu. */
const MAX_QUANTITY_CHOICES = 25;

const STATE_LABEL: Record<Listing['state'], string> = {
  active: 'On sale',
  paused: 'Paused',
  sold_out: 'Sold out',
  cancelled: 'Ended',
  removed: 'Removed by an admin',
};

const sellerLine = (listing: Listing, sellerDiscordId: string | null) =>
  listing.official
    ? '🛡️ Official (server shop)'
    : sellerDiscordId
      ? mention(sellerDiscordId)
      : 'a former member';

/** A listing's text as markdown: admins' official listings as written, players' as plain text without links. */
const shown = (listing: Listing, text: string) => (listing.official ? text : playerText(text));
/** A listing's title as markdown (see `playerText`). */
export const listingTitle = (listing: Listing) => shown(listing, listing.title);

function listingEmbed(listing: Listing, sellerDiscordId: string | null): APIEmbed {
  const badges = [
    listing.official ? '🛡️ Official' : null,
    listing.catalogItemId ? '📦 Catalog item' : null,
    listing.state === 'active' ? null : `⛔ ${STATE_LABEL[listing.state]}`,
  ].filter(Boolean);
  return {
    title: listingTitle(listing).slice(0, 256),
    color: listing.state === 'active' ? COLOR : COLOR_ERROR,
    ...(listing.description ? { description: shown(listing, listing.description.slice(0, 1000)) } : {}),
    fields: [
      { name: 'Seller', value: sellerLine(listing, sellerDiscordId), inline: true },
      { name: 'Price', value: `${coins(listing.unitPrice)} each`, inline: true },
      { name: 'Left', value: `${listing.quantityLeft} of ${listing.quantityTotal}`, inline: true },
    ],
    footer: { text: `Listing #${listing.id}${badges.length ? ` · ${badges.join(' · ')}` : ''}` },
  };
}

const buyButton = (listing: Listing): Row => ({
  type: ComponentType.ActionRow,
  components: [
    {
      type: ComponentType.Button,
      style: ButtonStyle.Success,
      label: listing.state === 'active' ? 'Buy' : STATE_LABEL[listing.state],
      custom_id: `${MARKET_IDS.buy}:${listing.id}`,
      disabled: listing.state !== 'active',
    },
  ],
});

/** A listing's message in #shop, and the same card privately: details and a Buy button (disabled once it ends). */
export function renderListing(listing: Listing, sellerDiscordId: string | null): MessageView {
  return { embeds: [listingEmbed(listing, sellerDiscordId)], components: [buyButton(listing)] };
}

/** Listings one page of /listings shows: a card and a row of controls each, and a row for paging. */
export const SELLER_PAGE_SIZE = 4;

/** Whose listings /listings shows: the player's own, or (admins) the official ones. */
export type ListingScope = 'own' | 'official';

const button = (
  customId: string,
  label: string,
  style: APIButtonComponentWithCustomId['style'],
): APIButtonComponentWithCustomId => ({ type: ComponentType.Button, style, label, custom_id: customId });

const sellerControls = (listing: Listing): Row => ({
  type: ComponentType.ActionRow,
  components: [
    listing.state === 'paused'
      ? button(`${MARKET_IDS.resume}:${listing.id}`, 'Resume', ButtonStyle.Success)
      : button(`${MARKET_IDS.pause}:${listing.id}`, 'Pause', ButtonStyle.Secondary),
    button(`${MARKET_IDS.reprice}:${listing.id}`, 'Reprice', ButtonStyle.Primary),
    button(`${MARKET_IDS.end}:${listing.id}`, 'End', ButtonStyle.Danger),
  ],
});

/**
 * A listing as its seller manages it: the card and, while it has not ended, Pause or Resume, Reprice and
 * End.
 */
export function renderListingControls(listing: Listing, sellerDiscordId: string | null): MessageView {
  const ended = listing.state === 'cancelled' || listing.state === 'removed';
  return {
    embeds: [listingEmbed(listing, sellerDiscordId)],
    components: ended ? [] : [sellerControls(listing)],
  };
}

/** /listings: a page of the seller's open listings (or the official ones), each with its controls. */
export function renderSellerListings(
  { listings: shown, page, pages, total }: ListingPage,
  scope: ListingScope,
  sellerDiscordId: string | null,
): { content: string } & MessageView {
  if (shown.length === 0) {
    return {
      content:
        scope === 'official'
          ? 'There are no open official listings.'
          : 'You have no open listings. List something with `/sell`.',
      embeds: [],
      components: [],
    };
  }
  const whose = scope === 'official' ? 'Official listings' : 'Your listings';
  const rows = shown.map(sellerControls);
  if (pages > 1) {
    const nav = (label: string, target: number): APIButtonComponentWithCustomId => ({
      ...button(`${MARKET_IDS.mine}:${scope}:${target}`, label, ButtonStyle.Secondary),
      disabled: target < 1 || target > pages,
    });
    rows.push({ type: ComponentType.ActionRow, components: [nav('◀', page - 1), nav('▶', page + 1)] });
  }
  return {
    content: `${whose}, page ${page} of ${pages} (${total} open). Ending a listing leaves its orders open.`,
    embeds: shown.map((l) => listingEmbed(l, sellerDiscordId)),
    components: rows,
  };
}

/** The End button's confirm step. */
export function renderEndPrompt(listing: Listing): MessageView {
  return {
    embeds: [
      {
        title: 'End this listing?',
        color: COLOR_ERROR,
        description: `**${listingTitle(listing)}** leaves the shop for good; its #shop message is marked ended. Orders already placed stay open: deliver or cancel them.`,
      },
    ],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          button(`${MARKET_IDS.endConfirm}:${listing.id}`, 'End listing', ButtonStyle.Danger),
          button(MARKET_IDS.endKeep, 'Keep it', ButtonStyle.Secondary),
        ],
      },
    ],
  };
}

/** "Buy 2 × Diamond for 240 coins?" with a quantity menu, Confirm and Cancel. `promptId` keys the purchase. */
export function renderBuyPrompt(promptId: string, listing: Listing, quantity: number): MessageView {
  const max = Math.min(listing.quantityLeft, MAX_QUANTITY_CHOICES);
  const rows: Row[] = [];
  if (max > 1) {
    rows.push({
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.StringSelect,
          custom_id: `${MARKET_IDS.quantity}:${promptId}:${listing.id}`,
          placeholder: 'Quantity',
          options: Array.from({ length: max }, (_, i) => ({
            label: `${i + 1} × for ${coins(listing.unitPrice * (i + 1))}`,
            value: String(i + 1),
            default: i + 1 === quantity,
          })),
        },
      ],
    });
  }
  rows.push({
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Success,
        label: 'Confirm',
        custom_id: `${MARKET_IDS.confirm}:${promptId}:${listing.id}:${quantity}:${listing.unitPrice}`,
      },
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: 'Cancel',
        custom_id: MARKET_IDS.cancel,
      },
    ],
  });
  return {
    embeds: [
      {
        title: 'Confirm purchase',
        color: COLOR,
        description: `Buy **${quantity} × ${listingTitle(listing)}** for **${coins(listing.unitPrice * quantity)}**?`,
        footer: {
          text: 'Your coins are held in escrow until you confirm delivery or the order is refunded.',
        },
      },
    ],
    components: rows,
  };
}

const SORTS: { sort: ListingSort; label: string }[] = [
  { sort: 'newest', label: 'Newest' },
  { sort: 'price_asc', label: 'Cheapest' },
  { sort: 'price_desc', label: 'Priciest' },
];

/** The hub's Shop browser: a page of active listings, a menu to open one, paging and sorting buttons. */
export function renderShopBrowser(
  page: ListingPage,
  sort: ListingSort,
  sellers: Map<string, string>,
): MessageView {
  const lines = page.listings.map(
    (l) =>
      `**${listingTitle(l)}** — ${coins(l.unitPrice)} · ${l.quantityLeft} left · ${
        l.official
          ? '🛡️ Official'
          : l.sellerId && sellers.has(l.sellerId)
            ? mention(sellers.get(l.sellerId)!)
            : '—'
      }`,
  );
  const rows: Row[] = [];
  if (page.listings.length > 0) {
    rows.push({
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.StringSelect,
          custom_id: MARKET_IDS.open,
          placeholder: 'Open a listing',
          options: page.listings.map((l) => ({
            label: l.title.slice(0, 100),
            description: `${coins(l.unitPrice)} · ${l.quantityLeft} left`,
            value: l.id,
          })),
        },
      ],
    });
  }
  const nav = (label: string, target: number, disabled: boolean) => ({
    type: ComponentType.Button as const,
    style: ButtonStyle.Secondary as const,
    label,
    custom_id: `${MARKET_IDS.page}:${sort}:${target}:${label === '◀' ? 'p' : 'n'}`,
    disabled,
  });
  rows.push({
    type: ComponentType.ActionRow,
    components: [
      nav('◀', page.page - 1, page.page <= 1),
      nav('▶', page.page + 1, page.page >= page.pages),
      ...SORTS.map((s): APIButtonComponentWithCustomId => ({
        type: ComponentType.Button,
        style: s.sort === sort ? ButtonStyle.Primary : ButtonStyle.Secondary,
        label: s.label,
        custom_id: `${MARKET_IDS.page}:${s.sort}:1`,
        disabled: s.sort === sort,
      })),
    ],
  });
  return {
    embeds: [
      {
        title: '🛒 Shop',
        color: COLOR,
        description:
          lines.length > 0 ? lines.join('\n') : 'Nothing is for sale right now. List something with `/sell`.',
        footer: {
          text: `Page ${page.page} of ${page.pages} · ${page.total} listing${page.total === 1 ? '' : 's'}`,
        },
      },
    ],
    components: rows,
  };
}

const ORDER_STATE: Record<OrderState, string> = {
  pending: '⏳ Waiting for delivery',
  delivered: '📦 Delivered — waiting for the buyer to confirm',
  completed: '✅ Completed',
  refunded: '↩️ Refunded',
  disputed: '⚠️ Disputed — an admin will decide',
};

export interface OrderViewInput {
  order: Order;
  title: string;
  viewer: 'buyer' | 'seller';
  buyerDiscordId: string;
  sellerDiscordId: string | null;
}

/** An order as its buyer or seller sees it, with the actions they can take now. */
export function renderOrder({
  order,
  title,
  viewer,
  buyerDiscordId,
  sellerDiscordId,
}: OrderViewInput): MessageView {
  const fields = [
    { name: 'Status', value: ORDER_STATE[order.state], inline: false },
    { name: 'Total', value: coins(order.total), inline: true },
    {
      name: viewer === 'buyer' ? 'Seller' : 'Buyer',
      value:
        viewer === 'buyer'
          ? sellerDiscordId
            ? mention(sellerDiscordId)
            : '🛡️ Official'
          : mention(buyerDiscordId),
      inline: true,
    },
  ];
  if (viewer === 'seller' && order.fee > 0) {
    fields.push({
      name: 'You receive',
      value: `${coins(order.total - order.fee)} (fee ${coins(order.fee)})`,
      inline: true,
    });
  }
  if (order.state === 'pending') {
    fields.push({ name: 'Refunded unless delivered', value: relativeTime(order.expiresAt), inline: true });
  }
  if (order.state === 'delivered' && order.confirmDeadline) {
    fields.push({ name: 'Completes by itself', value: relativeTime(order.confirmDeadline), inline: true });
  }
  const act = (action: OrderAction, label: string, style: APIButtonComponentWithCustomId['style']) =>
    button(`${MARKET_IDS.order}:${action}:${order.id}`, label, style);
  const actions =
    viewer === 'seller'
      ? [
          ...(order.state === 'pending' ? [act('deliver', 'Mark delivered', ButtonStyle.Success)] : []),
          ...(['pending', 'delivered', 'disputed'].includes(order.state)
            ? [act('scancel', 'Cancel and refund', ButtonStyle.Danger)]
            : []),
        ]
      : [
          ...(['pending', 'delivered', 'disputed'].includes(order.state)
            ? [act('received', 'Confirm received', ButtonStyle.Success)]
            : []),
          ...(order.state === 'pending' ? [act('bcancel', 'Cancel order', ButtonStyle.Danger)] : []),
          ...(order.state === 'delivered' ? [act('dispute', 'Report a problem', ButtonStyle.Secondary)] : []),
        ];
  return {
    embeds: [
      {
        title: `Order #${order.id}: ${order.quantity} × ${title}`.slice(0, 256),
        color: order.state === 'completed' ? COLOR_OK : order.state === 'refunded' ? COLOR_ERROR : COLOR,
        fields,
      },
    ],
    components: actions.length > 0 ? [{ type: ComponentType.ActionRow, components: actions }] : [],
  };
}

export type OrderEvent = 'placed' | 'delivered' | 'completed' | 'refunded' | 'disputed';

/** The DM each side gets when an order changes; buttons there act on the order like the private views. */
export function orderNotice(event: OrderEvent, input: OrderViewInput): { content: string } & MessageView {
  const { order, title, viewer } = input;
  const what = `${order.quantity} × ${title}`;
  const content: Record<OrderEvent, string> = {
    placed:
      viewer === 'seller'
        ? `🛒 New order: **${what}** for ${coins(order.total)}. Deliver it, then mark it delivered.`
        : `🛒 You ordered **${what}** for ${coins(order.total)}; the coins are held in escrow.`,
    delivered:
      viewer === 'buyer'
        ? `📦 **${what}** was delivered. Confirm you received it, or report a problem before the window closes.`
        : `📦 You marked **${what}** as delivered.`,
    completed:
      viewer === 'seller'
        ? `✅ **${what}** is complete: ${coins(order.total - order.fee)} paid to you.`
        : `✅ **${what}** is complete.`,
    refunded:
      viewer === 'buyer'
        ? `↩️ **${what}** was refunded: ${coins(order.total)} returned to you.`
        : `↩️ **${what}** was refunded to the buyer.`,
    disputed: `⚠️ **${what}** is disputed; an admin will settle it.`,
  };
  return { content: content[event], ...renderOrder(input) };
}

const input = (field: Omit<APITextInputComponent, 'type'>) => ({
  type: ComponentType.ActionRow as const,
  components: [{ type: ComponentType.TextInput as const, ...field }],
});

/** /sell's form: title, description, unit price, quantity; prefilled from a catalog item when one was chosen. */
export function sellModal(
  item: CatalogItem | null,
  reference: number | null,
): APIModalInteractionResponseCallbackData {
  return {
    custom_id: item ? `${MARKET_IDS.sell}:${item.id}` : MARKET_IDS.sell,
    title: (item ? `Sell ${item.name}` : 'Sell something').slice(0, 45),
    components: [
      input({
        custom_id: 'title',
        label: 'Title',
        style: TextInputStyle.Short,
        min_length: 1,
        max_length: 100,
        required: true,
        ...(item ? { value: item.name } : {}),
      }),
      input({
        custom_id: 'description',
        label: 'Description',
        style: TextInputStyle.Paragraph,
        max_length: 1000,
        required: false,
        ...(item?.description ? { value: item.description } : {}),
      }),
      input({
        custom_id: 'price',
        label: 'Price per unit, in coins',
        style: TextInputStyle.Short,
        min_length: 1,
        max_length: 13,
        required: true,
        ...(reference ? { placeholder: `Recent price: ${reference}` } : {}),
      }),
      input({
        custom_id: 'quantity',
        label: 'Quantity',
        style: TextInputStyle.Short,
        min_length: 1,
        max_length: 6,
        required: true,
        value: '1',
      }),
    ],
  };
}

/** Reprice: the new unit price, prefilled with the current one. */
export const repriceModal = (listing: Listing): APIModalInteractionResponseCallbackData => ({
  custom_id: `${MARKET_IDS.price}:${listing.id}`,
  title: `Reprice ${listing.title}`.slice(0, 45),
  components: [
    input({
      custom_id: 'price',
      label: 'New price per unit, in coins',
      style: TextInputStyle.Short,
      min_length: 1,
      max_length: 13,
      required: true,
      value: String(listing.unitPrice),
    }),
  ],
});

/** The buyer says what went wrong; submitting it opens the dispute. */
export const disputeModal = (orderId: string): APIModalInteractionResponseCallbackData => ({
  custom_id: `${MARKET_IDS.dispute}:${orderId}`,
  title: 'Report a problem with this order',
  components: [
    input({
      custom_id: 'reason',
      label: 'What went wrong?',
      style: TextInputStyle.Paragraph,
      min_length: 3,
      max_length: 1000,
      required: true,
    }),
  ],
});

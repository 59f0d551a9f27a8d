import {
  ApplicationCommandOptionType,
  InteractionResponseType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { MARKET_IDS, renderListing, sellModal } from '../../../discord/views/market.ts';
import { AppError } from '../../../economy/errors.ts';
import { getCatalogItem, searchCatalog } from '../../../economy/market/catalog.ts';
import { createListing } from '../../../economy/market/listings.ts';
import { referencePrice } from '../../../economy/market/pricing.ts';
import { RESTRICTED_KINDS } from '../../../economy/market/types.ts';
import { liveMarketSettings } from '../../../economy/settings.ts';
import { announceListing } from '../components/market-shop.ts';
import { focusedText, modalField, stringOption } from '../options.ts';
import { interactionActor } from '../permissions.ts';
import { NO_CHOICES, reply, showModal } from '../responses.ts';
import type { Command, ModalHandler } from '../types.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'sell',
  description: 'Put something up for sale in the shop',
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'item',
      description: 'A catalog item to sell (leave empty for anything else)',
      autocomplete: true,
      required: false,
    },
  ],
};

/** /sell [item]: opens the listing form, prefilled from the chosen catalog item. */
export const sellCommand: Command = {
  definition,
  async handle(ctx, interaction) {
    const itemId = stringOption(interaction, 'item');
    const item = itemId ? await getCatalogItem(ctx.deps.db, itemId) : undefined;
    if (itemId && (!item || !item.active || RESTRICTED_KINDS.includes(item.kind))) {
      throw new AppError('catalog_item_not_found', 'Pick a catalog item from the suggestions.', 404);
    }
    const reference = item ? (await referencePrice(ctx.deps.db, item.id)).reference : null;
    return showModal(sellModal(item ?? null, reference));
  },
  async autocomplete(ctx, interaction) {
    const items = await searchCatalog(ctx.deps.db, focusedText(interaction));
    if (items.length === 0) return NO_CHOICES;
    return {
      type: InteractionResponseType.ApplicationCommandAutocompleteResult,
      data: {
        choices: items.map((i) => ({
          name: `${i.name} (base ${i.basePrice} coins)`.slice(0, 100),
          value: i.id,
        })),
      },
    };
  },
};

/** A whole number typed into a form field; `field` names it in the refusal. */
export const wholeNumber = (text: string, field: string): number => {
  const t = text.trim().replace(/[,_ ]/g, '');
  if (!/^[0-9]{1,13}$/.test(t)) throw new AppError('invalid_input', `${field} must be a whole number.`, 400);
  return Number(t);
};

/** The submitted /sell form becomes a listing (guarded and capped), announced in #shop. */
export const sellModalHandler: ModalHandler = {
  prefix: MARKET_IDS.sell,
  async handle(ctx, interaction, [catalogItemId]) {
    const description = modalField(interaction, 'description').trim();
    const listing = await createListing(
      ctx.deps.db,
      await liveMarketSettings(ctx.deps),
      await interactionActor(ctx),
      {
        ...(catalogItemId ? { catalogItemId } : {}),
        title: modalField(interaction, 'title'),
        description: description === '' ? null : description,
        unitPrice: wholeNumber(modalField(interaction, 'price'), 'The price'),
        quantity: wholeNumber(modalField(interaction, 'quantity'), 'The quantity'),
      },
    );
    await announceListing(ctx, listing.id);
    return reply({
      content: 'Listed! It appears in #shop in a moment.',
      ...renderListing(listing, ctx.user.discordId),
    });
  },
};

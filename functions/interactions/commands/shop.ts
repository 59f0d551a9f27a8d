import {
  ApplicationCommandOptionType,
  InteractionResponseType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { getListing, searchListings } from '../../../economy/market/listings.ts';
import { shopBrowser, showListing } from '../components/market-shop.ts';
import { focusedText, stringOption } from '../options.ts';
import { NO_CHOICES, reply, replyText } from '../responses.ts';
import type { Command } from '../types.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'shop',
  description: 'Browse the shop, or find a listing by name',
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'query',
      description: 'What are you looking for?',
      autocomplete: true,
      required: false,
      max_length: 100,
    },
  ],
};

/** /shop [query]: the browser, or the listing picked from the suggestions (or the best match for the text). */
export const shopCommand: Command = {
  definition,
  async handle(ctx, interaction) {
    const query = stringOption(interaction, 'query')?.trim();
    if (!query) return reply(await shopBrowser(ctx, 'newest', 1));
    const picked = /^[0-9]{1,18}$/.test(query) ? await getListing(ctx.deps.db, query) : undefined;
    if (picked) return showListing(ctx, picked.id);
    const [best] = await searchListings(ctx.deps.db, query, 1);
    return best ? showListing(ctx, best.id) : replyText(`Nothing on sale matches “${query}”.`);
  },
  async autocomplete(ctx, interaction) {
    const found = await searchListings(ctx.deps.db, focusedText(interaction));
    if (found.length === 0) return NO_CHOICES;
    return {
      type: InteractionResponseType.ApplicationCommandAutocompleteResult,
      data: {
        choices: found.map((l) => ({
          name: `${l.title} — ${l.unitPrice} coins (${l.quantityLeft} left)`.slice(0, 100),
          value: l.id,
        })),
      },
    };
  },
};

import {
  ApplicationCommandOptionType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { sellerPage } from '../components/market-listings.ts';
import { booleanOption } from '../options.ts';
import { reply } from '../responses.ts';
import type { Command } from '../types.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'listings',
  description: 'Your shop listings, with buttons to pause, resume, reprice or end them',
  options: [
    {
      type: ApplicationCommandOptionType.Boolean,
      name: 'official',
      description: "Admins: the server's official listings instead of yours",
      required: false,
    },
  ],
};

/** /listings [official]: the player's open listings with their controls, privately. */
export const listingsCommand: Command = {
  definition,
  handle: async (ctx, interaction) =>
    reply(await sellerPage(ctx, booleanOption(interaction, 'official') ? 'official' : 'own', 1)),
};

import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { renderHelp, type HelpCommand } from '../../../discord/views/help.ts';
import { reply } from '../responses.ts';
import type { Command, InteractionContext } from '../types.ts';
import { listingsCommand } from './listings.ts';
import { ordersCommand } from './orders.ts';
import { sellCommand } from './sell.ts';
import { shopCommand } from './shop.ts';
import { settingsFor } from '../../../economy/settings.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'help',
  description: 'How coins, streaks and payments work',
};

/** A command's line in the help, from its registration: how it is typed (optional options in brackets), what it does. */
const helpEntry = ({ definition: d }: Command): HelpCommand => ({
  usage: ['/' + d.name, ...(d.options ?? []).map((o) => (o.required ? o.name : `[${o.name}]`))].join(' '),
  description: d.description,
});

const MARKET_COMMANDS = [sellCommand, shopCommand, ordersCommand, listingsCommand].map(helpEntry);

/** The help page, with this installation's daily and pay rules. Shared by /help and the hub's Help button. */
export async function showHelp(ctx: InteractionContext) {
  const settings = await settingsFor(ctx.deps).get();
  return reply({
    embeds: [
      renderHelp(
        {
          dailyBase: settings.dailyBase,
          dailyStreakBonus: settings.dailyStreakBonus,
          dailyStreakCap: settings.dailyStreakCap,
          dailyTimeZone: settings.dailyTimeZone,
          payDailyLimit: settings.payDailyLimit,
        },
        MARKET_COMMANDS,
      ),
    ],
  });
}

export const helpCommand: Command = { definition, handle: showHelp };

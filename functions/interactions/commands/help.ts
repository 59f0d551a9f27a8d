import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { renderHelp } from '../../../discord/views/help.ts';
import { reply } from '../responses.ts';
import type { Command, InteractionContext } from '../types.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'help',
  description: 'How coins, streaks and payments work',
};

/** The help page, with this installation's daily and pay rules. Shared by /help and the hub's Help button. */
export async function showHelp(ctx: InteractionContext) {
  const { cfg } = ctx.deps;
  return reply({
    embeds: [
      renderHelp({
        dailyBase: cfg.DAILY_BASE,
        dailyStreakBonus: cfg.DAILY_STREAK_BONUS,
        dailyStreakCap: cfg.DAILY_STREAK_CAP,
        dailyTimeZone: cfg.DAILY_TIMEZONE,
        payDailyLimit: cfg.PAY_DAILY_LIMIT,
      }),
    ],
  });
}

export const helpCommand: Command = { definition, handle: showHelp };

import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { renderDailyClaim } from '../../../discord/views/daily.ts';
import { claimDaily } from '../../../economy/daily.ts';
import { reply } from '../responses.ts';
import type { Command, InteractionContext } from '../types.ts';
import { settingsFor } from '../../../economy/settings.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'daily',
  description: 'Claim your daily coins; claim every day to grow your streak',
};

/** Claims today's reward (with the live daily settings) (once per day window, however many clicks arrive) and says when the next opens. */
export async function claimDailyReward(ctx: InteractionContext) {
  const settings = await settingsFor(ctx.deps).get();
  const result = await claimDaily(
    ctx.deps.db,
    ctx.user.id,
    {
      base: settings.dailyBase,
      streakBonus: settings.dailyStreakBonus,
      streakCap: settings.dailyStreakCap,
      timeZone: settings.dailyTimeZone,
    },
    ctx.deps.now(),
  );
  return reply({ embeds: [renderDailyClaim(result)] });
}

export const dailyCommand: Command = { definition, handle: claimDailyReward };

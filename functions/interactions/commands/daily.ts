import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { renderDailyClaim } from '../../../discord/views/daily.ts';
import { claimDaily } from '../../../economy/daily.ts';
import { reply } from '../responses.ts';
import type { Command, InteractionContext } from '../types.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'daily',
  description: 'Claim your daily coins; claim every day to grow your streak',
};

/** Claims today's reward (once per day window, however many clicks arrive) and says when the next opens. */
export async function claimDailyReward(ctx: InteractionContext) {
  const { cfg } = ctx.deps;
  const result = await claimDaily(
    ctx.deps.db,
    ctx.user.id,
    {
      base: cfg.DAILY_BASE,
      streakBonus: cfg.DAILY_STREAK_BONUS,
      streakCap: cfg.DAILY_STREAK_CAP,
      timeZone: cfg.DAILY_TIMEZONE,
    },
    ctx.deps.now(),
  );
  return reply({ embeds: [renderDailyClaim(result)] });
}

export const dailyCommand: Command = { definition, handle: claimDailyReward };

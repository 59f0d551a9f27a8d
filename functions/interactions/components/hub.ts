import { renderQuests } from '../../../discord/views/quests.ts';
import { HUB_BUTTONS } from '../../../discord/views/hub.ts';
import { listActiveQuests } from '../../../economy/quests.ts';
import { showCard } from '../commands/card.ts';
import { claimDailyReward } from '../commands/daily.ts';
import { showHelp } from '../commands/help.ts';
import { reply } from '../responses.ts';
import type { ComponentHandler } from '../types.ts';

/**
 * The hub's buttons; each answers with a new private message, whether clicked on /coins or in #coin-hub.
 * Shop is the market's (components/market-shop.ts).
 */
export const hubButtons: ComponentHandler[] = [
  { prefix: HUB_BUTTONS.card, handle: (ctx) => showCard(ctx) },
  { prefix: HUB_BUTTONS.daily, handle: (ctx) => claimDailyReward(ctx) },
  { prefix: HUB_BUTTONS.help, handle: (ctx) => showHelp(ctx) },
  {
    prefix: HUB_BUTTONS.quests,
    handle: async (ctx) =>
      reply({ embeds: [renderQuests(await listActiveQuests(ctx.deps.db, ctx.deps.now()))] }),
  },
];

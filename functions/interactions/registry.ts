import { adminCommand } from './commands/admin.ts';
import { auditCommand } from './commands/audit.ts';
import { cardCommand } from './commands/card.ts';
import { coinsCommand } from './commands/coins.ts';
import { dailyCommand } from './commands/daily.ts';
import { helpCommand } from './commands/help.ts';
import { payCommand } from './commands/pay.ts';
import { setupCommand } from './commands/setup.ts';
import { feedComponents } from './components/feed.ts';
import { hubButtons } from './components/hub.ts';
import { payCancelButton, payConfirmButton } from './components/pay.ts';
import { feedModals } from './modals/feed.ts';
import type { InteractionRegistry } from './router.ts';

/**
 * Every command, component and modal Coinhub answers. The router dispatches from these lists and
 * `npm run register` registers `commands` with Discord, so adding a feature is one line here.
 */
export const registry: InteractionRegistry = {
  commands: [
    coinsCommand,
    cardCommand,
    dailyCommand,
    payCommand,
    helpCommand,
    setupCommand,
    adminCommand,
    auditCommand,
  ],
  components: [...hubButtons, payConfirmButton, payCancelButton, ...feedComponents],
  modals: [...feedModals],
};

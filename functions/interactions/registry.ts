import { ApplicationIntegrationType, InteractionContextType } from 'discord-api-types/v10';
import { adminCommand } from './commands/admin.ts';
import { auditCommand } from './commands/audit.ts';
import { cardCommand } from './commands/card.ts';
import { coinsCommand } from './commands/coins.ts';
import { dailyCommand } from './commands/daily.ts';
import { helpCommand } from './commands/help.ts';
import { linkCommand, unlinkCommand } from './commands/link.ts';
import { listingsCommand } from './commands/listings.ts';
import { payCommand } from './commands/pay.ts';
import { ordersCommand } from './commands/orders.ts';
import { sellCommand, sellModalHandler } from './commands/sell.ts';
import { setupCommand } from './commands/setup.ts';
import { shopCommand } from './commands/shop.ts';
import { feedComponents } from './components/feed.ts';
import { hubButtons } from './components/hub.ts';
import { marketListingComponents, repriceModalHandler } from './components/market-listings.ts';
import { marketDisputeModal, marketOrderButtons } from './components/market-orders.ts';
import { marketShopComponents } from './components/market-shop.ts';
import { deliverNowButton } from './components/minecraft.ts';
import { payCancelButton, payConfirmButton } from './components/pay.ts';
import { feedModals } from './modals/feed.ts';
import type { InteractionRegistry } from './router.ts';
import type { Command } from './types.ts';

/**
 * Coinhub serves one server (GUILD_ID): every command is offered only in servers that installed the app, never
 * in DMs, group DMs or as a user-installed app. The router refuses those anyway; this keeps Discord from
 * showing them.
 */
const inServerOnly = (command: Command): Command => ({
  ...command,
  definition: {
    ...command.definition,
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
  },
});

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
    sellCommand,
    shopCommand,
    ordersCommand,
    listingsCommand,
    linkCommand,
    unlinkCommand,
  ].map(inServerOnly),
  components: [
    ...hubButtons,
    payConfirmButton,
    payCancelButton,
    ...feedComponents,
    ...marketShopComponents,
    marketOrderButtons,
    ...marketListingComponents,
    deliverNowButton,
  ],
  modals: [...feedModals, sellModalHandler, marketDisputeModal, repriceModalHandler],
};

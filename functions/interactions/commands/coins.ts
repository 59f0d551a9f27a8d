import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { renderHub } from '../../../discord/views/hub.ts';
import { reply } from '../responses.ts';
import type { Command } from '../types.ts';

const definition: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'coins',
  description: 'Open the Coin Hub: your card, the shop, quests and your daily reward',
};

/** /coins: the hub, privately, with its five buttons. */
export const coinsCommand: Command = {
  definition,
  handle: async () => reply(renderHub()),
};

import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { createLinkCode, unlinkAccount } from '../../../economy/minecraft/links.ts';
import { replyText } from '../responses.ts';
import type { Command } from '../types.ts';

/** /link: a single-use code to type in Minecraft, shown only to the player. */
export const linkCommand: Command = {
  definition: {
    name: 'link',
    description: 'Link your Minecraft account: get a code to type in game',
  } satisfies RESTPostAPIChatInputApplicationCommandsJSONBody,
  async handle(ctx) {
    const { code, expiresAt } = await createLinkCode(ctx.deps.db, ctx.user.id, ctx.deps.now());
    return replyText(
      [
        `Type this on the Minecraft server within 10 minutes (<t:${Math.floor(expiresAt.getTime() / 1000)}:R>):`,
        `\`/coinhub link ${code}\``,
        'The code works once. Linking again later replaces the account linked now.',
      ].join('\n'),
    );
  },
};

/** /unlink: removes the link to a Minecraft account. */
export const unlinkCommand: Command = {
  definition: {
    name: 'unlink',
    description: 'Unlink your Minecraft account',
  } satisfies RESTPostAPIChatInputApplicationCommandsJSONBody,
  async handle(ctx) {
    const name = await unlinkAccount(ctx.deps.db, ctx.user.id, ctx.deps.now());
    return replyText(
      name ? `Unlinked the Minecraft account ${name}.` : 'No Minecraft account is linked to you.',
    );
  },
};

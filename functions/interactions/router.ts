import {
  ApplicationCommandType,
  InteractionResponseType,
  InteractionType,
  type APIInteraction,
  type APIInteractionResponse,
} from 'discord-api-types/v10';
import type { Logger } from 'pino';
import { AppError } from '../../economy/errors.ts';
import { upsertDiscordUser } from '../../economy/users.ts';
import type { AppDeps } from '../context.ts';
import { discordProfile } from './options.ts';
import { settingsFor } from '../../economy/settings.ts';
import { createRateLimiter } from './rate-limit.ts';
import { NOT_IN_A_SERVER, NOT_THIS_SERVER, pong, replyText, SLOW_DOWN, UNKNOWN_ACTION } from './responses.ts';
import type {
  AutocompleteContext,
  Command,
  ComponentHandler,
  InteractionContext,
  ModalHandler,
} from './types.ts';

/** Everything the endpoint can answer; `functions/interactions/registry.ts` holds the app's one instance. */
export interface InteractionRegistry {
  commands: readonly Command[];
  components: readonly ComponentHandler[];
  modals: readonly ModalHandler[];
}

/** Prefix lookup for `custom_id`s: the longest registered prefix of `:`-separated parts wins. */
export function prefixTable<H extends { prefix: string }>(kind: string, handlers: readonly H[]) {
  const table = new Map<string, H>();
  for (const h of handlers) {
    if (table.has(h.prefix)) throw new Error(`two ${kind} handlers share the custom_id prefix "${h.prefix}"`);
    table.set(h.prefix, h);
  }
  return (customId: string): { handler: H; args: string[] } | undefined => {
    const parts = customId.split(':');
    for (let n = parts.length; n > 0; n--) {
      const handler = table.get(parts.slice(0, n).join(':'));
      if (handler) return { handler, args: parts.slice(n) };
    }
    return undefined;
  };
}

const NO_SUGGESTIONS: APIInteractionResponse = {
  type: InteractionResponseType.ApplicationCommandAutocompleteResult,
  data: { choices: [] },
};

type Route =
  | { autocomplete: false; run: (ctx: InteractionContext) => Promise<APIInteractionResponse> }
  | { autocomplete: true; run: (ctx: AutocompleteContext) => Promise<APIInteractionResponse> };

export interface RouteMeta {
  log: Logger;
  requestId: string;
}

/**
 * Builds the dispatcher: PING → PONG; an interaction from outside GUILD_ID (another server, a DM, a
 * user-installed context) → ephemeral refusal, nothing touched; then the handler is looked up (unknown →
 * ephemeral "unknown action", nothing touched); then the user's rate limit (past it → "slow down", nothing
 * runs); then the user is created or refreshed from the payload; then the handler runs. Autocomplete has its
 * own looser limit and runs without creating the user. Errors become ephemeral messages: an
 * AppError's own message, anything else a generic one, logged with the request id.
 */
export function createInteractionRouter(deps: AppDeps, registry: InteractionRegistry) {
  const commands = new Map<string, Command>();
  for (const command of registry.commands) {
    if (commands.has(command.definition.name))
      throw new Error(`two commands are named /${command.definition.name}`);
    commands.set(command.definition.name, command);
  }
  const findComponent = prefixTable('component', registry.components);
  const findModal = prefixTable('modal', registry.modals);
  const limiter = createRateLimiter(deps.redis, {
    prefix: deps.cfg.REDIS_PREFIX,
    limits: () => {
      const { rateLimitActions, rateLimitWindowS } = settingsFor(deps).current();
      return { limit: rateLimitActions, windowSeconds: rateLimitWindowS };
    },
  });
  const autocompleteLimiter = createRateLimiter(deps.redis, {
    prefix: `${deps.cfg.REDIS_PREFIX}:autocomplete`,
    limits: () => ({
      limit: deps.cfg.RATE_LIMIT_AUTOCOMPLETE,
      windowSeconds: settingsFor(deps).current().rateLimitWindowS,
    }),
  });

  function resolve(interaction: APIInteraction): Route | undefined {
    switch (interaction.type) {
      case InteractionType.ApplicationCommand: {
        const command = commands.get(interaction.data.name);
        if (!command || interaction.data.type !== ApplicationCommandType.ChatInput) return undefined;
        return {
          autocomplete: false,
          run: (ctx) => command.handle(ctx, interaction as Parameters<Command['handle']>[1]),
        };
      }
      case InteractionType.ApplicationCommandAutocomplete: {
        const command = commands.get(interaction.data.name);
        if (!command) return undefined;
        return {
          autocomplete: true,
          run: async (ctx) =>
            command.autocomplete ? command.autocomplete(ctx, interaction) : NO_SUGGESTIONS,
        };
      }
      case InteractionType.MessageComponent: {
        const found = findComponent(interaction.data.custom_id);
        return (
          found && { autocomplete: false, run: (ctx) => found.handler.handle(ctx, interaction, found.args) }
        );
      }
      case InteractionType.ModalSubmit: {
        const found = findModal(interaction.data.custom_id);
        return (
          found && { autocomplete: false, run: (ctx) => found.handler.handle(ctx, interaction, found.args) }
        );
      }
      default:
        return undefined;
    }
  }

  return async function routeInteraction(
    interaction: APIInteraction,
    meta: RouteMeta,
  ): Promise<APIInteractionResponse> {
    if (interaction.type === InteractionType.Ping) return pong();
    // Autocomplete answers are suggestion lists, never messages: anything that goes wrong suggests nothing.
    const failed =
      interaction.type === InteractionType.ApplicationCommandAutocomplete
        ? () => NO_SUGGESTIONS
        : (message: string) => replyText(message);
    // One community per installation: other servers, DMs and user-installed contexts are refused before
    // anything is counted, read or written.
    if (!interaction.guild_id || !interaction.member) return failed(NOT_IN_A_SERVER);
    if (interaction.guild_id !== deps.cfg.GUILD_ID) return failed(NOT_THIS_SERVER);
    const route = resolve(interaction);
    if (!route) return failed(UNKNOWN_ACTION);

    const discordUser = interaction.member.user;
    const { log } = meta;
    const base = { deps, interaction, discordUser, log, requestId: meta.requestId };
    try {
      // Autocomplete fires on every keystroke: its own, looser budget, and it never creates the user.
      if (route.autocomplete) {
        if (!(await autocompleteLimiter.hit(discordUser.id))) return NO_SUGGESTIONS;
        return await route.run(base);
      }
      if (!(await limiter.hit(discordUser.id))) return failed(SLOW_DOWN);
      const user = await upsertDiscordUser(deps.db, discordProfile(discordUser));
      return await route.run({ ...base, user });
    } catch (err) {
      if (err instanceof AppError) return failed(err.message);
      log.error({ err, interactionId: interaction.id, discordId: discordUser.id }, 'interaction failed');
      return failed(
        `Something went wrong on our side. If it keeps happening, tell an admin (ref ${meta.requestId}).`,
      );
    }
  };
}

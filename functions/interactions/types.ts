import type {
  APIApplicationCommandAutocompleteInteraction,
  APIApplicationCommandAutocompleteResponse,
  APIChatInputApplicationCommandInteraction,
  APIInteraction,
  APIInteractionResponse,
  APIMessageComponentInteraction,
  APIModalSubmitInteraction,
  APIUser,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { Logger } from 'pino';
import type { UserRow } from '../../economy/users.ts';
import type { AppDeps } from '../context.ts';

/** What every interaction handler gets: the app's dependencies and the invoking user, already upserted. */
export interface InteractionContext {
  deps: AppDeps;
  interaction: APIInteraction;
  /** The invoking user's Coinhub row. */
  user: UserRow;
  discordUser: APIUser;
  log: Logger;
  requestId: string;
}

/** What autocomplete handlers get: no user row, because suggesting never creates the user. */
export type AutocompleteContext = Omit<InteractionContext, 'user'>;

/** A slash command: its registration body (the same object `npm run register` sends) and its handler. */
export interface Command {
  definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  handle(
    ctx: InteractionContext,
    interaction: APIChatInputApplicationCommandInteraction,
  ): Promise<APIInteractionResponse>;
  /** Suggestions while the user types an option marked `autocomplete: true`. */
  autocomplete?(
    ctx: AutocompleteContext,
    interaction: APIApplicationCommandAutocompleteInteraction,
  ): Promise<APIApplicationCommandAutocompleteResponse>;
}

/**
 * A button or select menu, routed by `custom_id`: the handler whose `prefix` equals the id or is followed by
 * `:` in it; `args` are the `:`-separated parts after the prefix (`pay:confirm:123` → prefix `pay:confirm`,
 * args `['123']`).
 */
export interface ComponentHandler {
  prefix: string;
  handle(
    ctx: InteractionContext,
    interaction: APIMessageComponentInteraction,
    args: string[],
  ): Promise<APIInteractionResponse>;
}

/** A modal submission, routed by `custom_id` like components. */
export interface ModalHandler {
  prefix: string;
  handle(
    ctx: InteractionContext,
    interaction: APIModalSubmitInteraction,
    args: string[],
  ): Promise<APIInteractionResponse>;
}

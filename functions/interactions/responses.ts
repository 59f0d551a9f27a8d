import {
  InteractionResponseType,
  MessageFlags,
  type APIApplicationCommandAutocompleteResponse,
  type APIInteractionResponse,
  type APIInteractionResponseCallbackData,
  type APIModalInteractionResponseCallbackData,
} from 'discord-api-types/v10';

type MessageData = Omit<APIInteractionResponseCallbackData, 'flags' | 'allowed_mentions'>;

/** Every user-facing answer is private to the user, and mentions in it never ping anyone. */
const privately = (data: MessageData): APIInteractionResponseCallbackData => ({
  ...data,
  flags: MessageFlags.Ephemeral,
  allowed_mentions: { parse: [] },
});

/** A new ephemeral message. */
export const reply = (data: MessageData): APIInteractionResponse => ({
  type: InteractionResponseType.ChannelMessageWithSource,
  data: privately(data),
});

/** Plain ephemeral text. */
export const replyText = (content: string): APIInteractionResponse => reply({ content });

/** Replaces the (ephemeral) message the clicked component sits on, e.g. a confirm prompt with its outcome. */
export const updateMessage = (data: MessageData): APIInteractionResponse => ({
  type: InteractionResponseType.UpdateMessage,
  data: privately(data),
});

/** Closes the prompt the clicked component sits on: its embeds and buttons give way to the outcome. */
export const closePrompt = (content: string): APIInteractionResponse =>
  updateMessage({ content, embeds: [], components: [] });

/** Opens a modal form. */
export const showModal = (data: APIModalInteractionResponseCallbackData): APIInteractionResponse => ({
  type: InteractionResponseType.Modal,
  data,
});

/** "Thinking…", privately; a job edits the original response within 15 minutes. */
export const deferReply = (): APIInteractionResponse => ({
  type: InteractionResponseType.DeferredChannelMessageWithSource,
  data: { flags: MessageFlags.Ephemeral },
});

/** An autocomplete answer with nothing to suggest. */
export const NO_CHOICES: APIApplicationCommandAutocompleteResponse = {
  type: InteractionResponseType.ApplicationCommandAutocompleteResult,
  data: { choices: [] },
};

export const pong = (): APIInteractionResponse => ({ type: InteractionResponseType.Pong });

export const UNKNOWN_ACTION = 'Unknown action: this button or command is not (or no longer) available.';
export const NOT_THIS_SERVER = 'Coinhub is not set up for this server.';
export const NOT_IN_A_SERVER = 'Coinhub works only inside its Discord server.';
export const SLOW_DOWN = 'Slow down! You are doing that too often; try again in a few seconds.';

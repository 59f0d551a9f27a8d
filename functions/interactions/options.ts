import {
  ApplicationCommandOptionType,
  type APIApplicationCommandAutocompleteInteraction,
  type APIChatInputApplicationCommandInteraction,
  type APIModalSubmitInteraction,
  type APIUser,
} from 'discord-api-types/v10';
import type { DiscordProfile } from '../../economy/users.ts';

type Interaction = APIChatInputApplicationCommandInteraction;

function find(interaction: Interaction, name: string) {
  return interaction.data.options?.find((o) => o.name === name);
}

export function stringOption(interaction: Interaction, name: string): string | undefined {
  const o = find(interaction, name);
  return o?.type === ApplicationCommandOptionType.String ? o.value : undefined;
}

export function integerOption(interaction: Interaction, name: string): number | undefined {
  const o = find(interaction, name);
  return o?.type === ApplicationCommandOptionType.Integer ? o.value : undefined;
}

export function booleanOption(interaction: Interaction, name: string): boolean | undefined {
  const o = find(interaction, name);
  return o?.type === ApplicationCommandOptionType.Boolean ? o.value : undefined;
}

/** A user option, resolved to the user object Discord sends along with it. */
export function userOption(interaction: Interaction, name: string): APIUser | undefined {
  const o = find(interaction, name);
  if (o?.type !== ApplicationCommandOptionType.User) return undefined;
  return interaction.data.resolved?.users?.[o.value];
}

/** The profile fields Coinhub keeps of a Discord user. */
export const discordProfile = (user: APIUser): DiscordProfile => ({
  discordId: user.id,
  username: user.username,
  globalName: user.global_name ?? null,
  avatar: user.avatar ?? null,
});

/** The focused option's text of an autocomplete interaction. */
export function focusedText(interaction: APIApplicationCommandAutocompleteInteraction): string {
  const focused = interaction.data.options.find((o) => 'focused' in o && o.focused);
  return focused && focused.type === ApplicationCommandOptionType.String ? focused.value : '';
}

/** A text input's value in a submitted modal. */
export function modalField(interaction: APIModalSubmitInteraction, id: string): string {
  for (const row of interaction.data.components) {
    const inputs = 'components' in row ? row.components : 'component' in row ? [row.component] : [];
    for (const input of inputs as { custom_id?: string; value?: string }[]) {
      if (input.custom_id === id && typeof input.value === 'string') return input.value;
    }
  }
  return '';
}

import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  InteractionType,
  PermissionFlagsBits,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandOption,
  type APIUser,
} from 'discord-api-types/v10';

/** Payload builders for signed test requests and `npm run discord:send`: the shapes Discord sends. */

export const TEST_GUILD_ID = '900000000000000001';
export const TEST_APPLICATION_ID = '900000000000000002';
export const TEST_CHANNEL_ID = '900000000000000003';

export interface Actor {
  id: string;
  username?: string;
  globalName?: string | null;
  avatar?: string | null;
  /** Holds Discord's Administrator permission in the guild. */
  admin?: boolean;
  /** The member's Discord role ids in the guild, sent in `member.roles`. */
  roles?: string[];
  /** Sent from a DM (no member, no guild). */
  dm?: boolean;
  /** The guild the interaction comes from (default: the place's, TEST_GUILD_ID in tests). */
  guildId?: string;
  bot?: boolean;
}

let sequence = 0;
/** A fresh snowflake (time-ordered, unique within the process). */
export function snowflake(): string {
  sequence = (sequence + 1) % 4096;
  return String(
    (BigInt(Date.now() - 1_420_070_400_000) << 22n) | BigInt((process.pid % 1024) << 12) | BigInt(sequence),
  );
}

export const discordUser = (a: Actor): APIUser => ({
  id: a.id,
  username: a.username ?? `user${a.id.slice(-6)}`,
  global_name: a.globalName === undefined ? null : a.globalName,
  avatar: a.avatar ?? null,
  discriminator: '0',
  ...(a.bot ? { bot: true } : {}),
});

const MEMBER_PERMISSIONS = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages;

/** Where an interaction happens: the guild, the channel and the application it is sent to. */
export interface Place {
  guildId: string;
  channelId: string;
  applicationId: string;
}

const TEST_PLACE: Place = {
  guildId: TEST_GUILD_ID,
  channelId: TEST_CHANNEL_ID,
  applicationId: TEST_APPLICATION_ID,
};

function envelope(
  type: InteractionType,
  actor: Actor,
  data: unknown,
  extra: Record<string, unknown> = {},
  at: Partial<Place> = {},
) {
  const place = { ...TEST_PLACE, ...at };
  const user = discordUser(actor);
  const guildId = actor.guildId ?? place.guildId;
  // Discord names who authorised the app here: the guild (0) for a server install, the user (1) in a DM.
  const who = actor.dm
    ? { user, context: 1, authorizing_integration_owners: { '1': user.id } }
    : {
        guild_id: guildId,
        authorizing_integration_owners: { '0': guildId },
        member: {
          user,
          roles: actor.roles ?? [],
          joined_at: '2024-01-01T00:00:00.000Z',
          deaf: false,
          mute: false,
          flags: 0,
          permissions: (actor.admin
            ? MEMBER_PERMISSIONS | PermissionFlagsBits.Administrator
            : MEMBER_PERMISSIONS
          ).toString(),
        },
        context: 0,
      };
  return {
    id: snowflake(),
    application_id: place.applicationId,
    type,
    token: `itoken-${snowflake()}-${'x'.repeat(40)}`,
    version: 1,
    channel_id: place.channelId,
    app_permissions: '0',
    locale: 'en-US',
    entitlements: [],
    data,
    ...who,
    ...extra,
  };
}

export type OptionValue = string | number | boolean | { user: Actor };

/**
 * A slash command; option types follow the values (text, integer, boolean, `{ user }`). With `subcommand`, the
 * options belong to that subcommand (`/setup roles …`).
 */
export function slashCommand(
  name: string,
  actor: Actor,
  options: Record<string, OptionValue> = {},
  subcommand?: string,
) {
  const users: Record<string, APIUser> = {};
  const opts: APIApplicationCommandInteractionDataBasicOption[] = Object.entries(options).map(
    ([optName, value]) => {
      if (typeof value === 'object') {
        users[value.user.id] = discordUser(value.user);
        return { name: optName, type: ApplicationCommandOptionType.User, value: value.user.id };
      }
      if (typeof value === 'number')
        return { name: optName, type: ApplicationCommandOptionType.Integer, value };
      if (typeof value === 'boolean')
        return { name: optName, type: ApplicationCommandOptionType.Boolean, value };
      return { name: optName, type: ApplicationCommandOptionType.String, value };
    },
  );
  return envelope(InteractionType.ApplicationCommand, actor, {
    id: snowflake(),
    name,
    type: ApplicationCommandType.ChatInput,
    ...(subcommand
      ? { options: [{ name: subcommand, type: ApplicationCommandOptionType.Subcommand, options: opts }] }
      : opts.length > 0
        ? { options: opts }
        : {}),
    ...(Object.keys(users).length > 0 ? { resolved: { users } } : {}),
  });
}

/** An autocomplete request while `actor` types `text` into the string option `option` of /`name`. */
export function autocomplete(name: string, actor: Actor, option: string, text: string) {
  return envelope(InteractionType.ApplicationCommandAutocomplete, actor, {
    id: snowflake(),
    name,
    type: ApplicationCommandType.ChatInput,
    options: [{ name: option, type: ApplicationCommandOptionType.String, value: text, focused: true }],
  });
}

/** The message a component sits on, as Discord sends it with the click. */
export interface ClickedMessage {
  id: string;
  content?: string;
  embeds?: unknown[];
  components?: unknown[];
  ephemeral?: boolean;
}

/**
 * A click on a component (a button, or a select menu with the picked `values`) of `message` (by default a fresh
 * ephemeral one).
 */
export function componentInteraction(
  customId: string,
  actor: Actor,
  {
    values,
    message = { id: snowflake(), ephemeral: true },
    at = {},
  }: { values?: string[]; message?: ClickedMessage; at?: Partial<Place> } = {},
) {
  const place = { ...TEST_PLACE, ...at };
  return envelope(
    InteractionType.MessageComponent,
    actor,
    values
      ? { custom_id: customId, component_type: ComponentType.StringSelect, values }
      : { custom_id: customId, component_type: ComponentType.Button },
    {
      message: {
        id: message.id,
        channel_id: place.channelId,
        author: {
          id: place.applicationId,
          username: 'Coinhub',
          bot: true,
          discriminator: '0',
          global_name: null,
          avatar: null,
        },
        content: message.content ?? '',
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: [],
        mention_roles: [],
        attachments: [],
        embeds: message.embeds ?? [],
        pinned: false,
        type: 0,
        flags: message.ephemeral === false ? 0 : 64,
        components: message.components ?? [],
      },
    },
    place,
  );
}

/** A button click on a message (by default a fresh ephemeral one). */
export const buttonClick = (customId: string, actor: Actor, messageId = snowflake()) =>
  componentInteraction(customId, actor, { message: { id: messageId, ephemeral: true } });

/** A modal submission with text inputs `fields` (custom_id → value). */
export function modalSubmit(
  customId: string,
  actor: Actor,
  fields: Record<string, string>,
  at: Partial<Place> = {},
) {
  return envelope(
    InteractionType.ModalSubmit,
    actor,
    {
      custom_id: customId,
      components: Object.entries(fields).map(([id, value]) => ({
        type: ComponentType.ActionRow,
        components: [{ type: ComponentType.TextInput, custom_id: id, value }],
      })),
    },
    {},
    at,
  );
}

/** What a typed option refers to, for the `resolved` block Discord sends with user, role and channel options. */
export interface Resolver {
  user?(id: string): APIUser | undefined;
  role?(id: string): { id: string; name: string } | undefined;
  channel?(id: string): { id: string; name?: string; type: number } | undefined;
}

/** A command's declared options, as its definition (discord-api-types) lists them. */
type Declared = readonly APIApplicationCommandOption[] | undefined;

export class OptionError extends Error {
  override name = 'OptionError';
}

function typedValue(option: APIApplicationCommandOption, raw: string): string | number | boolean {
  switch (option.type) {
    case ApplicationCommandOptionType.Integer:
    case ApplicationCommandOptionType.Number: {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n))
        throw new OptionError(`${option.name} must be a number, not "${raw}"`);
      if (option.type === ApplicationCommandOptionType.Integer && !Number.isInteger(n))
        throw new OptionError(`${option.name} must be a whole number, not "${raw}"`);
      return n;
    }
    case ApplicationCommandOptionType.Boolean:
      if (raw !== 'true' && raw !== 'false') throw new OptionError(`${option.name} must be true or false`);
      return raw === 'true';
    case ApplicationCommandOptionType.User:
    case ApplicationCommandOptionType.Role:
    case ApplicationCommandOptionType.Channel:
    case ApplicationCommandOptionType.Mentionable: {
      const id = /^<[@#]?[&!]?(\d+)>$/.exec(raw)?.[1] ?? raw;
      if (!/^\d{15,21}$/.test(id)) throw new OptionError(`${option.name} must be an id, not "${raw}"`);
      return id;
    }
    default:
      return raw;
  }
}

/**
 * A chat-input command (or its autocomplete, when `focused` names the option being typed) with its options typed
 * as the command's definition declares them, and the `resolved` users, members, roles and channels Discord sends
 * along. Unknown option names and values of the wrong type throw OptionError.
 */
export function commandInteraction(
  definition: { name: string; options?: Declared },
  actor: Actor,
  {
    subcommand,
    values = {},
    focused,
    resolver = {},
    at = {},
  }: {
    subcommand?: string;
    values?: Record<string, string>;
    focused?: string;
    resolver?: Resolver;
    at?: Partial<Place>;
  } = {},
) {
  const sub = subcommand ? definition.options?.find((o) => o.name === subcommand) : undefined;
  if (subcommand && sub?.type !== ApplicationCommandOptionType.Subcommand)
    throw new OptionError(`/${definition.name} has no subcommand "${subcommand}"`);
  const declared = (sub && 'options' in sub ? sub.options : definition.options) ?? [];
  const users: Record<string, APIUser> = {};
  const members: Record<string, unknown> = {};
  const roles: Record<string, unknown> = {};
  const channels: Record<string, unknown> = {};
  const options = Object.entries(values).map(([name, raw]) => {
    const option = declared.find((o) => o.name === name);
    if (!option) {
      const known = declared.map((o) => o.name).join(', ') || 'none';
      throw new OptionError(`/${definition.name} has no option "${name}" (options: ${known})`);
    }
    if (name === focused) return { name, type: option.type, value: raw, focused: true };
    const value = typedValue(option, raw);
    const id = String(value);
    if (
      option.type === ApplicationCommandOptionType.User ||
      option.type === ApplicationCommandOptionType.Mentionable
    ) {
      const user = resolver.user?.(id) ?? discordUser({ id });
      users[id] = user;
      members[id] = { roles: [], joined_at: '2024-01-01T00:00:00.000Z', permissions: '0', flags: 0 };
    }
    if (option.type === ApplicationCommandOptionType.Role)
      roles[id] = {
        color: 0,
        position: 1,
        permissions: '0',
        managed: false,
        mentionable: true,
        hoist: false,
        flags: 0,
        ...(resolver.role?.(id) ?? { id, name: `role${id.slice(-4)}` }),
      };
    if (option.type === ApplicationCommandOptionType.Channel)
      channels[id] = {
        permissions: '0',
        ...(resolver.channel?.(id) ?? { id, type: 0, name: `channel${id.slice(-4)}` }),
      };
    return { name, type: option.type, value };
  });
  const resolved = Object.fromEntries(
    Object.entries({ users, members, roles, channels }).filter(([, v]) => Object.keys(v).length > 0),
  );
  return envelope(
    focused ? InteractionType.ApplicationCommandAutocomplete : InteractionType.ApplicationCommand,
    actor,
    {
      id: snowflake(),
      name: definition.name,
      type: ApplicationCommandType.ChatInput,
      ...(subcommand
        ? { options: [{ name: subcommand, type: ApplicationCommandOptionType.Subcommand, options }] }
        : options.length > 0
          ? { options }
          : {}),
      ...(Object.keys(resolved).length > 0 ? { resolved } : {}),
    },
    {},
    at,
  );
}

export const ping = () => ({
  id: snowflake(),
  application_id: TEST_APPLICATION_ID,
  type: InteractionType.Ping,
  token: 'ping',
  version: 1,
});

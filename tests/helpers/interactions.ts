import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  InteractionType,
  PermissionFlagsBits,
  type APIApplicationCommandInteractionDataBasicOption,
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
  /** The guild the interaction comes from (default TEST_GUILD_ID). */
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

function envelope(type: InteractionType, actor: Actor, data: unknown, extra: Record<string, unknown> = {}) {
  const user = discordUser(actor);
  const guildId = actor.guildId ?? TEST_GUILD_ID;
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
    application_id: TEST_APPLICATION_ID,
    type,
    token: `itoken-${snowflake()}-${'x'.repeat(40)}`,
    version: 1,
    channel_id: TEST_CHANNEL_ID,
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

/** A button click on a message (by default a fresh ephemeral one). */
export function buttonClick(customId: string, actor: Actor, messageId = snowflake()) {
  return envelope(
    InteractionType.MessageComponent,
    actor,
    { custom_id: customId, component_type: ComponentType.Button },
    {
      message: {
        id: messageId,
        channel_id: TEST_CHANNEL_ID,
        author: {
          id: TEST_APPLICATION_ID,
          username: 'Coinhub',
          bot: true,
          discriminator: '0',
          global_name: null,
          avatar: null,
        },
        content: '',
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: [],
        mention_roles: [],
        attachments: [],
        embeds: [],
        pinned: false,
        type: 0,
        flags: 64,
        components: [],
      },
    },
  );
}

/** A modal submission with text inputs `fields` (custom_id → value). */
export function modalSubmit(customId: string, actor: Actor, fields: Record<string, string>) {
  return envelope(InteractionType.ModalSubmit, actor, {
    custom_id: customId,
    components: Object.entries(fields).map(([id, value]) => ({
      type: ComponentType.ActionRow,
      components: [{ type: ComponentType.TextInput, custom_id: id, value }],
    })),
  });
}

export const ping = () => ({
  id: snowflake(),
  application_id: TEST_APPLICATION_ID,
  type: InteractionType.Ping,
  token: 'ping',
  version: 1,
});

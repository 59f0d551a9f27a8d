import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  InteractionResponseType,
  MessageFlags,
  PermissionFlagsBits,
  Routes,
  type APIApplicationCommandOption,
} from 'discord-api-types/v10';
import { createDiscordRest } from '../../discord/rest.ts';
import { registry } from '../../functions/interactions/registry.ts';
import {
  FakeDiscordApi,
  type FakeChannel,
  type FakeMember,
  type FakeMessage,
  type FakeRole,
  type RouteModule,
} from '../discord/fake-api.ts';
import { FakeDiscordOAuth } from '../discord/discord-oauth.ts';
import { snowflake } from '../discord/http.ts';
import {
  commandInteraction,
  componentInteraction,
  discordUser,
  modalSubmit,
  OptionError,
  type Actor,
  type ClickedMessage,
} from '../interactions.ts';
import type { DiscordSigner } from '../signer.ts';

const PAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page');
const PAGE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** A member of the playground guild the page can act as. */
export interface PlaygroundMember {
  key: string;
  id: string;
  name: string;
  /** What the picker says: player, moderator or admin. */
  label: string;
  admin: boolean;
}

/** A message only one member sees (an ephemeral answer), kept by the page, never in a channel. */
interface Ephemeral {
  id: string;
  channelId: string;
  userId: string;
  content: string;
  embeds: unknown[];
  components: unknown[];
  /** A deferred answer still waiting for its edit. */
  thinking: boolean;
  failed?: boolean;
  timestamp: string;
}

/** What an interaction token's later edits and follow-ups belong to. */
interface TokenTarget {
  userId: string;
  channelId: string;
  /** The message a deferred answer or update edits: an ephemeral's id or a channel message's. */
  messageId?: string;
  appliedEdits: number;
}

export interface PlaygroundOptions {
  /** Where Coinhub takes interactions (`…/interactions`). */
  interactionsUrl: string;
  signer: DiscordSigner;
  applicationId: string;
  guildId: string;
  guildName?: string;
  botToken: string;
  port?: number;
  host?: string;
  /** More route modules for the stand-in. */
  modules?: RouteModule[];
  /**
   * Serves Discord's OAuth2 for the panel's login: the app's client secret and its registered redirect. The guild's
   * members log in (the page at /oauth2/authorize asks which); the admin member owns the guild.
   */
  oauth?: { clientSecret: string; redirectUri: string };
  /**
   * Where the guild (channels, messages, roles, members) is kept between runs, so a restart finds what /setup
   * made, like Discord would. Without it the guild lives in memory only.
   */
  stateFile?: string;
}

/** The guild as `stateFile` keeps it. */
interface SavedGuild {
  channels: FakeChannel[];
  messages: [string, FakeMessage[]][];
  roles: FakeRole[];
  members: FakeMember[];
}

const SAVE_EVERY_MS = 1000;

const THINKING = 'Coinhub is thinking…';
const VIEW_CHANNEL = PermissionFlagsBits.ViewChannel;
/** What a member without roles may do in the playground guild (as the interactions report it). */
const MEMBER_PERMISSIONS = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages;

class BadRequest extends Error {}

/**
 * The playground: the Discord stand-in plus a web page that looks and works like Discord for one guild. The page
 * acts as one of a few members; every command, click and modal it sends becomes a signed interaction POSTed to
 * Coinhub, exactly as Discord would send it, and the answers are shown as Discord shows them (ephemeral ones only
 * to the member who asked; deferred ones "thinking" until Coinhub edits them).
 */
export class Playground {
  readonly members: PlaygroundMember[];
  private readonly ephemerals: Ephemeral[] = [];
  private readonly tokens = new Map<string, TokenTarget>();
  private followUpsSeen = 0;
  private version = 0;
  private savedVersion = -1;
  private saver?: NodeJS.Timeout;

  private constructor(
    readonly api: FakeDiscordApi,
    private readonly options: PlaygroundOptions,
  ) {
    const { guildId } = options;
    api.addGuild(guildId, [{ name: 'general', topic: 'Say hello. Try /help.' }]);
    const moderatorRoleId = api.addRole(guildId, { name: 'Moderator', color: 0x3498db }).id;
    // Fixed ids, so a member keeps their wallet across restarts of `npm run dev`.
    const base = BigInt(guildId);
    this.members = [
      { key: 'alex', id: String(base + 11n), name: 'Alex', label: 'player', admin: false },
      { key: 'sam', id: String(base + 12n), name: 'Sam', label: 'player', admin: false },
      { key: 'mia', id: String(base + 13n), name: 'Mia', label: 'moderator', admin: false },
      { key: 'ada', id: String(base + 14n), name: 'Ada', label: 'admin', admin: true },
    ];
    for (const m of this.members) {
      api.addMember(guildId, {
        user: { id: m.id, username: m.name.toLowerCase(), global_name: m.name },
        roles: m.label === 'moderator' ? [moderatorRoleId] : [],
      });
    }
  }

  /** Starts the stand-in with the playground's page on it. */
  static async start(options: PlaygroundOptions): Promise<Playground> {
    const ready: { playground?: Playground } = {};
    const api = await FakeDiscordApi.start({
      token: options.botToken,
      botUserId: options.applicationId,
      port: options.port,
      host: options.host,
      modules: options.modules,
      web: (req, res) => ready.playground!.handle(req, res),
    });
    const playground = new Playground(api, options);
    if (options.oauth) {
      const oauth = FakeDiscordOAuth.install(api, {
        clientId: options.applicationId,
        clientSecret: options.oauth.clientSecret,
        redirectUris: [options.oauth.redirectUri],
      });
      oauth.owners.set(options.guildId, playground.members.find((m) => m.admin)!.id);
    }
    if (options.stateFile) {
      playground.restore(options.stateFile);
      playground.saver = setInterval(() => playground.save(options.stateFile!), SAVE_EVERY_MS);
      playground.saver.unref();
    }
    ready.playground = playground;
    return playground;
  }

  /** Puts back the guild a previous run saved (ids included, so Coinhub's stored channel ids still resolve). */
  private restore(file: string): void {
    if (!existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedGuild;
    const { guildId } = this.options;
    this.api.channels.clear();
    for (const c of saved.channels) this.api.channels.set(c.id, c);
    this.api.messages.clear();
    for (const [channelId, list] of saved.messages) this.api.messages.set(channelId, list);
    this.api.roles.set(guildId, saved.roles);
    this.api.members.set(guildId, new Map(saved.members.map((m) => [m.user.id, m])));
    this.savedVersion = this.api.version;
  }

  private save(file: string): void {
    if (this.api.version === this.savedVersion) return;
    const { guildId } = this.options;
    const saved: SavedGuild = {
      channels: [...this.api.channels.values()],
      messages: [...this.api.messages.entries()],
      roles: this.api.roles.get(guildId) ?? [],
      members: [...(this.api.members.get(guildId)?.values() ?? [])],
    };
    writeFileSync(file, JSON.stringify(saved), { mode: 0o600 });
    this.savedVersion = this.api.version;
  }

  get url(): string {
    return this.api.origin;
  }

  get guildId(): string {
    return this.options.guildId;
  }

  /** Registers Coinhub's slash commands in the guild, through the REST route `npm run register` uses. */
  async registerCommands(): Promise<void> {
    const rest = createDiscordRest({ DISCORD_API_BASE: this.api.url, DISCORD_TOKEN: this.options.botToken });
    await rest.put(Routes.applicationGuildCommands(this.options.applicationId, this.options.guildId), {
      body: registry.commands.map((c) => c.definition),
    });
  }

  async close(): Promise<void> {
    clearInterval(this.saver);
    if (this.options.stateFile) this.save(this.options.stateFile);
    await this.api.close();
  }

  private member(id: unknown): PlaygroundMember {
    const found = this.members.find((m) => m.id === id || m.key === id);
    if (!found) throw new BadRequest('no such member');
    return found;
  }

  private actor(member: PlaygroundMember): Actor {
    const held = this.api.members.get(this.options.guildId)?.get(member.id);
    return {
      id: member.id,
      username: member.name.toLowerCase(),
      globalName: member.name,
      admin: member.admin,
      roles: held?.roles ?? [],
    };
  }

  /** Whether `member` may see `channelId`: Administrators see all; others unless @everyone is denied. */
  private canSee(member: PlaygroundMember, channelId: string): boolean {
    const channel = this.api.channels.get(channelId);
    if (!channel) return false;
    if (channel.type === 1) return channel.recipients?.some((r) => r.id === member.id) ?? false;
    if (member.admin) return true;
    const roles = this.api.members.get(this.options.guildId)?.get(member.id)?.roles ?? [];
    const allowed = (id: string) =>
      channel.permission_overwrites.some((o) => o.id === id && (BigInt(o.allow) & VIEW_CHANNEL) !== 0n);
    const everyoneDenied = channel.permission_overwrites.some(
      (o) => o.id === this.options.guildId && (BigInt(o.deny) & VIEW_CHANNEL) !== 0n,
    );
    return !everyoneDenied || allowed(member.id) || roles.some(allowed);
  }

  /** Applies what arrived through interaction tokens since last time: response edits and follow-ups. */
  private sync(): void {
    for (const [token, target] of this.tokens) {
      const edits = (this.api.responseEdits.get(token) ?? []) as Record<string, unknown>[];
      for (const edit of edits.slice(target.appliedEdits)) this.applyEdit(target, edit);
      target.appliedEdits = edits.length;
    }
    for (const followUp of this.api.followUps.slice(this.followUpsSeen)) {
      const target = this.tokens.get(followUp.token);
      if (target) this.deliver(target.userId, target.channelId, followUp.body);
    }
    this.followUpsSeen = this.api.followUps.length;
  }

  private applyEdit(target: TokenTarget, edit: Record<string, unknown>): void {
    const ephemeral = this.ephemerals.find((e) => e.id === target.messageId);
    const message: Ephemeral | FakeMessage | undefined =
      ephemeral ?? this.api.channelMessages(target.channelId).find((m) => m.id === target.messageId);
    if (!message) return;
    if (edit.content !== undefined) message.content = edit.content as string;
    if (edit.embeds !== undefined) message.embeds = edit.embeds as unknown[];
    if (edit.components !== undefined) message.components = edit.components as unknown[];
    if (ephemeral) ephemeral.thinking = false;
    this.version++;
  }

  /** A new message from Coinhub: ephemeral (only `userId` sees it) or posted in the channel. */
  private deliver(
    userId: string,
    channelId: string,
    data: Record<string, unknown>,
    thinking = false,
  ): string {
    const flags = Number(data.flags ?? 0);
    if ((flags & MessageFlags.Ephemeral) === 0) return this.api.createMessage(channelId, data).id;
    const ephemeral: Ephemeral = {
      id: snowflake(),
      channelId,
      userId,
      content: thinking ? THINKING : ((data.content as string) ?? ''),
      embeds: (data.embeds as unknown[]) ?? [],
      components: (data.components as unknown[]) ?? [],
      thinking,
      timestamp: new Date().toISOString(),
    };
    this.ephemerals.push(ephemeral);
    this.version++;
    return ephemeral.id;
  }

  /** Signs and sends `payload` to Coinhub, then shows its answer the way Discord would. */
  private async interact(
    member: PlaygroundMember,
    channelId: string,
    payload: { token: string; type: number },
    clicked?: string,
  ): Promise<Record<string, unknown>> {
    const body = JSON.stringify(payload);
    let res: Response;
    try {
      res = await fetch(this.options.interactionsUrl, {
        method: 'POST',
        body,
        headers: this.options.signer.signedHeaders(body),
      });
    } catch (err) {
      return this.failed(
        member,
        channelId,
        `Coinhub did not answer at ${this.options.interactionsUrl} (${causeOf(err)}).`,
      );
    }
    const text = await res.text();
    if (res.status !== 200)
      return this.failed(member, channelId, `Coinhub answered HTTP ${res.status}: ${text.slice(0, 300)}`);
    const answer = JSON.parse(text) as { type: number; data?: Record<string, unknown> };
    const target: TokenTarget = { userId: member.id, channelId, appliedEdits: 0 };
    this.tokens.set(payload.token, target);
    switch (answer.type) {
      case InteractionResponseType.ChannelMessageWithSource:
        target.messageId = this.deliver(member.id, channelId, answer.data ?? {});
        return { ok: true };
      case InteractionResponseType.DeferredChannelMessageWithSource:
        target.messageId = this.deliver(member.id, channelId, answer.data ?? {}, true);
        return { ok: true };
      case InteractionResponseType.DeferredMessageUpdate:
        target.messageId = clicked;
        return { ok: true };
      case InteractionResponseType.UpdateMessage:
        target.messageId = clicked;
        this.applyEdit(target, answer.data ?? {});
        return { ok: true };
      case InteractionResponseType.ApplicationCommandAutocompleteResult:
        return { choices: (answer.data as { choices?: unknown[] } | undefined)?.choices ?? [] };
      case InteractionResponseType.Modal:
        return { modal: answer.data };
      default:
        return this.failed(member, channelId, `Coinhub answered with response type ${answer.type}.`);
    }
  }

  /** Discord's "This interaction failed", shown only to the member, with the reason for the developer. */
  private failed(member: PlaygroundMember, channelId: string, reason: string): Record<string, unknown> {
    const id = this.deliver(member.id, channelId, {
      flags: MessageFlags.Ephemeral,
      content: `This interaction failed. ${reason}`,
    });
    const e = this.ephemerals.find((x) => x.id === id);
    if (e) e.failed = true;
    return { ok: false, error: reason };
  }

  private commandDefinition(name: unknown): { name: string; options?: APIApplicationCommandOption[] } {
    const held = this.api.commands.get(this.options.guildId) ?? this.api.commands.get('global') ?? [];
    const found = held.find((c) => c.name === name);
    if (!found) throw new BadRequest(`/${String(name)} is not registered in this guild`);
    return found as { name: string; options?: APIApplicationCommandOption[] };
  }

  private resolver() {
    const { guildId } = this.options;
    return {
      user: (id: string) => {
        const m = this.api.members.get(guildId)?.get(id);
        return m ? discordUser({ id, username: m.user.username, globalName: m.user.global_name }) : undefined;
      },
      role: (id: string) => this.api.roles.get(guildId)?.find((r) => r.id === id),
      channel: (id: string) => {
        const c = this.api.channels.get(id);
        return c ? { id: c.id, name: c.name, type: c.type } : undefined;
      },
    };
  }

  private at(channelId: string) {
    return { guildId: this.options.guildId, channelId, applicationId: this.options.applicationId };
  }

  /** The message `messageId` as the member sees it (a channel message, or one of their ephemerals). */
  private clickedMessage(member: PlaygroundMember, channelId: string, messageId: string): ClickedMessage {
    const ephemeral = this.ephemerals.find((e) => e.id === messageId && e.userId === member.id);
    if (ephemeral) return { ...ephemeral, ephemeral: true };
    const message = this.api.channelMessages(channelId).find((m) => m.id === messageId);
    if (!message) throw new BadRequest('that message is gone');
    return { ...message, ephemeral: false };
  }

  /** The page's actions: POST bodies are JSON, answers are JSON. */
  private async action(name: string, input: Record<string, unknown>): Promise<unknown> {
    const member = this.member(input.member);
    const channelId = String(input.channel ?? '');
    if (!this.canSee(member, channelId)) throw new BadRequest('that channel is not visible to this member');
    const values = (input.values ?? {}) as Record<string, string>;
    switch (name) {
      case 'command':
      case 'autocomplete': {
        const payload = commandInteraction(this.commandDefinition(input.name), this.actor(member), {
          subcommand: typeof input.subcommand === 'string' && input.subcommand ? input.subcommand : undefined,
          values,
          focused: name === 'autocomplete' ? String(input.focused) : undefined,
          resolver: this.resolver(),
          at: this.at(channelId),
        });
        return this.interact(member, channelId, payload);
      }
      case 'component': {
        const messageId = String(input.message);
        const message = this.clickedMessage(member, channelId, messageId);
        const payload = componentInteraction(String(input.customId), this.actor(member), {
          values: Array.isArray(input.selected) ? input.selected.map(String) : undefined,
          message,
          at: this.at(channelId),
        });
        return this.interact(member, channelId, payload, messageId);
      }
      case 'modal': {
        const payload = modalSubmit(String(input.customId), this.actor(member), values, this.at(channelId));
        return this.interact(
          member,
          channelId,
          payload,
          typeof input.message === 'string' ? input.message : undefined,
        );
      }
      case 'dismiss': {
        const i = this.ephemerals.findIndex((e) => e.id === input.message && e.userId === member.id);
        if (i >= 0) this.ephemerals.splice(i, 1);
        this.version++;
        return { ok: true };
      }
      default:
        throw new BadRequest(`no action ${name}`);
    }
  }

  /** Everything the page shows `member`: the guild, channels they see, and the messages of `channelId`. */
  state(memberId: string, channelId: string | null) {
    this.sync();
    const member = this.member(memberId);
    const { guildId } = this.options;
    const channels = [...this.api.channels.values()]
      .filter((c) => (c.guild_id === guildId || c.type === 1) && this.canSee(member, c.id))
      .map((c) => ({
        id: c.id,
        name: c.type === 1 ? 'Coinhub (DM)' : c.name,
        topic: c.topic ?? null,
        dm: c.type === 1,
        private: c.permission_overwrites.some(
          (o) => o.id === guildId && (BigInt(o.deny) & VIEW_CHANNEL) !== 0n,
        ),
      }));
    const shown = channels.find((c) => c.id === channelId) ?? channels[0];
    const messages = shown
      ? [
          ...this.api.channelMessages(shown.id).map((m) => ({ ...m, ephemeral: false })),
          ...this.ephemerals
            .filter((e) => e.channelId === shown.id && e.userId === member.id)
            .map((e) => ({
              ...e,
              author: { id: this.options.applicationId, username: 'Coinhub', bot: true },
              ephemeral: true,
            })),
        ].sort((a, b) => a.timestamp.localeCompare(b.timestamp))
      : [];
    const members = this.members.map((m) => ({
      ...m,
      roles: this.api.members.get(guildId)?.get(m.id)?.roles ?? [],
    }));
    return {
      version: this.api.version + this.version,
      guild: { id: guildId, name: this.options.guildName ?? 'Coinhub Playground' },
      me: members.find((m) => m.id === member.id)!,
      members,
      roles: (this.api.roles.get(guildId) ?? []).filter((r) => r.id !== guildId),
      channels,
      channel: shown?.id ?? null,
      messages,
      // Like Discord, a command whose default_member_permissions the member lacks is not offered to them.
      commands: (this.api.commands.get(guildId) ?? []).filter((c) => {
        const needed = BigInt((c.default_member_permissions as string | null | undefined) ?? 0);
        return member.admin || (needed & ~MEMBER_PERMISSIONS) === 0n;
      }),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://playground');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method === 'GET' && PAGE_FILES[url.pathname]) {
        const file = PAGE_FILES[url.pathname]!;
        res.writeHead(200, {
          'content-type': CONTENT_TYPES[path.extname(file)]!,
          'cache-control': 'no-store',
        });
        res.end(await readFile(path.join(PAGE_DIR, file)));
        return;
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      if (req.method === 'GET' && url.pathname === '/playground/state') {
        send(200, this.state(url.searchParams.get('member') ?? '', url.searchParams.get('channel')));
        return;
      }
      // What Coinhub sent later with an interaction's token, for `npm run discord:send` to show.
      const token = /^\/playground\/responses\/([^/]+)$/.exec(url.pathname)?.[1];
      if (req.method === 'GET' && token) {
        const t = decodeURIComponent(token);
        send(200, {
          edits: this.api.responseEdits.get(t) ?? [],
          followUps: this.api.followUps.filter((f) => f.token === t).map((f) => f.body),
        });
        return;
      }
      const action = /^\/playground\/(\w+)$/.exec(url.pathname)?.[1];
      if (req.method === 'POST' && action) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        let input: Record<string, unknown>;
        try {
          input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          throw new BadRequest('the body is not JSON');
        }
        send(200, await this.action(action, input));
        return;
      }
      send(404, { error: 'not found' });
    } catch (err) {
      if (err instanceof BadRequest || err instanceof OptionError) send(400, { error: err.message });
      else send(500, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** The reason under fetch's "fetch failed" (ECONNREFUSED and the like). */
export function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

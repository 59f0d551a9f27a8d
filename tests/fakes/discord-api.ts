import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Discord's REST API (v10) at its HTTP boundary. It keeps guilds, channels, messages and
 * application commands in memory, records every call, checks the bot token and the bodies against Discord's
 * limits (a bad call is answered like Discord would and listed in `problems`), and can enforce a per-channel
 * message rate limit with the headers @discordjs/rest reads. Tests add routes with `route()`.
 */

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
  status: number;
  at: number;
}

export interface FakeChannel {
  id: string;
  guild_id?: string;
  type: number;
  name?: string;
  topic?: string | null;
  permission_overwrites: { id: string; type: number; allow: string; deny: string }[];
  recipients?: { id: string }[];
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  author: { id: string; username: string; bot: boolean };
  content: string;
  embeds: unknown[];
  components: unknown[];
  edited_timestamp: string | null;
  timestamp: string;
  nonce?: string | number;
}

export interface FakeDiscordOptions {
  /** The bot token every bot route must carry as `Authorization: Bot <token>`. */
  token: string;
  /** The bot's user id (author of its messages); Discord uses the application id. */
  botUserId?: string;
  /** Per-channel limit on message creation: `limit` messages per `windowMs`, 429 beyond. */
  messageRateLimit?: { limit: number; windowMs: number };
}

type Params = Record<string, string>;
interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
/** A route's answer; a test's route may answer later (a promise), e.g. after acting while a call is in flight. */
type Handler = (req: {
  params: Params;
  query: URLSearchParams;
  body: unknown;
  call: RecordedCall;
}) => Reply | Promise<Reply>;
interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  /** `bot`: Authorization must be the bot token; `none`: no Authorization (webhooks); `own`: the handler checks. */
  auth: 'bot' | 'none' | 'own';
  /** Served at the server's root (Discord's web pages) instead of under /api/v10. */
  root: boolean;
  handler: Handler;
}

/** How long Discord remembers a nonce for `enforce_nonce` ("the past few minutes"). */
const NONCE_WINDOW_MS = 5 * 60_000;

const EPOCH = 1_420_070_400_000n;
let seq = 0n;
const snowflake = () => String(((BigInt(Date.now()) - EPOCH) << 22n) | (++seq & 4095n));

const error = (status: number, code: number, message: string, errors?: unknown) => ({
  status,
  body: { code, message, ...(errors ? { errors } : {}) },
});

/** Discord's limits on a message body; returns what is wrong, or nothing. */
export function messageProblems(body: unknown, { create }: { create: boolean }): string[] {
  const out: string[] = [];
  if (typeof body !== 'object' || body === null) return ['body is not an object'];
  const b = body as { content?: unknown; embeds?: unknown; components?: unknown; flags?: unknown };
  if (b.content !== undefined && (typeof b.content !== 'string' || b.content.length > 2000))
    out.push('content: at most 2000 characters');
  const embeds = (b.embeds ?? []) as Record<string, unknown>[];
  if (!Array.isArray(embeds) || embeds.length > 10) out.push('embeds: at most 10');
  let total = 0;
  for (const [i, e] of (Array.isArray(embeds) ? embeds : []).entries()) {
    const len = (v: unknown) => (typeof v === 'string' ? v.length : 0);
    if (len(e.title) > 256) out.push(`embeds[${i}].title: at most 256`);
    if (len(e.description) > 4096) out.push(`embeds[${i}].description: at most 4096`);
    total += len(e.title) + len(e.description);
    const fields = (e.fields ?? []) as { name?: unknown; value?: unknown }[];
    if (fields.length > 25) out.push(`embeds[${i}].fields: at most 25`);
    for (const [j, f] of fields.entries()) {
      if (typeof f.name !== 'string' || f.name.length === 0 || f.name.length > 256)
        out.push(`embeds[${i}].fields[${j}].name: 1 to 256`);
      if (typeof f.value !== 'string' || f.value.length === 0 || f.value.length > 1024)
        out.push(`embeds[${i}].fields[${j}].value: 1 to 1024`);
      total += len(f.name) + len(f.value);
    }
    const author = e.author as { name?: unknown } | undefined;
    if (author && len(author.name) > 256) out.push(`embeds[${i}].author.name: at most 256`);
    total += len(author?.name);
  }
  if (total > 6000) out.push('embeds: at most 6000 characters in total');
  const rows = (b.components ?? []) as {
    type?: unknown;
    components?: { type?: unknown; custom_id?: unknown; label?: unknown; url?: unknown }[];
  }[];
  if (!Array.isArray(rows) || rows.length > 5) out.push('components: at most 5 rows');
  const ids = new Set<string>();
  for (const [i, row] of (Array.isArray(rows) ? rows : []).entries()) {
    if (
      row.type !== 1 ||
      !Array.isArray(row.components) ||
      row.components.length === 0 ||
      row.components.length > 5
    ) {
      out.push(`components[${i}]: an action row of 1 to 5 components`);
      continue;
    }
    for (const c of row.components) {
      if (c.type === 2 && c.url === undefined) {
        if (typeof c.custom_id !== 'string' || c.custom_id.length === 0 || c.custom_id.length > 100)
          out.push(`components[${i}]: custom_id 1 to 100`);
        else if (ids.has(c.custom_id)) out.push(`components[${i}]: duplicate custom_id ${c.custom_id}`);
        else ids.add(c.custom_id);
      }
      if (typeof c.label === 'string' && c.label.length > 80) out.push(`components[${i}]: label at most 80`);
    }
  }
  const empty = !b.content && embeds.length === 0 && rows.length === 0;
  if (create && empty) out.push('a message needs content, embeds or components');
  return out;
}

const COMMAND_NAME = /^[-_\p{L}\p{N}]{1,32}$/u;

function commandProblems(body: unknown): string[] {
  if (!Array.isArray(body)) return ['commands: an array'];
  const out: string[] = [];
  const names = new Set<string>();
  for (const [i, c] of (body as Record<string, unknown>[]).entries()) {
    const name = c.name;
    if (typeof name !== 'string' || !COMMAND_NAME.test(name) || name !== name.toLowerCase())
      out.push(`[${i}].name: lowercase, 1 to 32`);
    else if (names.has(name)) out.push(`[${i}].name: duplicate ${name}`);
    else names.add(name);
    if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 100)
      out.push(`[${i}].description: 1 to 100`);
    const options = (c.options ?? []) as Record<string, unknown>[];
    if (options.length > 25) out.push(`[${i}].options: at most 25`);
    let optionalSeen = false;
    for (const o of options) {
      if (typeof o.name !== 'string' || !COMMAND_NAME.test(o.name)) out.push(`[${i}].options.name`);
      if (typeof o.description !== 'string' || o.description.length < 1 || o.description.length > 100)
        out.push(`[${i}].options.description`);
      if (o.required && optionalSeen) out.push(`[${i}].options: required options must come first`);
      if (!o.required) optionalSeen = true;
    }
  }
  return out;
}

export class FakeDiscordApi {
  readonly calls: RecordedCall[] = [];
  /** Every call that Discord would have refused for a reason other than a rate limit. */
  readonly problems: string[] = [];
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage[]>();
  readonly guilds = new Set<string>();
  /** Application commands by scope: `global` or the guild id. */
  readonly commands = new Map<string, (Record<string, unknown> & { id: string; name: string })[]>();
  /** Bodies sent to edit interaction responses, by interaction token, in order. */
  readonly responseEdits = new Map<string, unknown[]>();
  rateLimited = 0;
  /** Message creations answered with an earlier message because of `enforce_nonce`. */
  nonceHits = 0;
  private readonly routes: Route[] = [];
  private readonly buckets = new Map<string, { count: number; resetAt: number }>();
  private server!: Server;
  private base = '';

  private constructor(readonly options: FakeDiscordOptions) {
    this.installRoutes();
  }

  static async start(options: FakeDiscordOptions): Promise<FakeDiscordApi> {
    const fake = new FakeDiscordApi(options);
    fake.server = createServer((req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/api`;
    return fake;
  }

  /** The value for DISCORD_API_BASE. */
  get url(): string {
    return this.base;
  }

  /** The value for DISCORD_OAUTH_BASE: the root that Discord's web pages (the authorize page) live under. */
  get origin(): string {
    return this.base.replace(/\/api$/, '');
  }

  get botUserId(): string {
    return this.options.botUserId ?? '900000000000000002';
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Adds (or overrides, when registered later) a route under /api/v10, or at the root with `root`. `:name`
   * segments become params. A route checks the bot token unless `bot: false` (no Authorization at all) or
   * `ownAuth` (the handler checks it, e.g. OAuth2's Basic and Bearer).
   */
  route(
    method: string,
    path: string,
    handler: Handler,
    { bot = true, root = false, ownAuth = false } = {},
  ): void {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path
        .replace(/[.*+?^${}()|[\]\\]/g, (m) => (m === '@' ? m : `\\${m}`))
        .replace(/:(\w+)/g, (_, k: string) => {
          keys.push(k);
          return '([^/]+)';
        })}$`,
    );
    const auth = ownAuth ? 'own' : bot ? 'bot' : 'none';
    this.routes.unshift({ method, pattern, keys, auth, root, handler });
  }

  addGuild(guildId: string, channels: Partial<FakeChannel>[] = []): void {
    this.guilds.add(guildId);
    for (const c of channels) {
      const id = c.id ?? snowflake();
      this.channels.set(id, { type: 0, permission_overwrites: [], ...c, id, guild_id: guildId });
    }
  }

  guildChannels(guildId: string): FakeChannel[] {
    return [...this.channels.values()].filter((c) => c.guild_id === guildId);
  }

  channelMessages(channelId: string): FakeMessage[] {
    return this.messages.get(channelId) ?? [];
  }

  callsTo(method: string, pathPattern: RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && pathPattern.test(c.path));
  }

  private problem(call: RecordedCall, what: string) {
    this.problems.push(`${call.method} ${call.path}: ${what}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
      body: undefined,
      status: 0,
      at: Date.now(),
    };
    this.calls.push(call);
    let result: Reply;
    try {
      const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      call.body = !raw ? undefined : form ? Object.fromEntries(new URLSearchParams(raw)) : JSON.parse(raw);
      result = await this.dispatch(call);
    } catch {
      this.problem(call, 'body is not JSON');
      result = error(400, 50109, 'The request body contains invalid JSON.');
    }
    call.status = result.status;
    // Like Discord, a 204 has no body and so no content type (a client would try to parse it).
    res.writeHead(result.status, {
      ...(result.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...result.headers,
    });
    res.end(result.body === undefined ? '' : JSON.stringify(result.body));
  }

  private dispatch(call: RecordedCall): Reply | Promise<Reply> {
    const prefix = '/api/v10';
    const root = !call.path.startsWith(prefix);
    const path = root ? call.path : call.path.slice(prefix.length);
    for (const r of this.routes) {
      if (r.method !== call.method || r.root !== root) continue;
      const m = r.pattern.exec(path);
      if (!m) continue;
      if (r.auth === 'bot' && call.authorization !== `Bot ${this.options.token}`) {
        this.problem(call, `authorization is not "Bot <token>"`);
        return error(401, 0, '401: Unauthorized');
      }
      if (r.auth === 'none' && call.authorization !== undefined)
        this.problem(call, 'webhook routes take no Authorization header');
      const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      return r.handler({ params, query: call.query, body: call.body, call });
    }
    this.problem(call, root ? 'not under /api/v10' : 'no such route in the fake');
    return error(404, 0, '404: Not Found');
  }

  /** Applies the per-channel message limit; returns a 429 when past it, else the headers to send. */
  private takeMessageSlot(channelId: string): ReturnType<Handler> | Record<string, string> {
    const limit = this.options.messageRateLimit;
    if (!limit) return {};
    const now = Date.now();
    let bucket = this.buckets.get(channelId);
    if (!bucket || now >= bucket.resetAt) {
      bucket = { count: 0, resetAt: now + limit.windowMs };
      this.buckets.set(channelId, bucket);
    }
    const resetAfter = Math.max(0, bucket.resetAt - now) / 1000;
    const headers = {
      'x-ratelimit-limit': String(limit.limit),
      'x-ratelimit-reset': (bucket.resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': 'fake-channel-messages',
    };
    if (bucket.count >= limit.limit) {
      this.rateLimited++;
      return {
        status: 429,
        headers: {
          ...headers,
          'x-ratelimit-remaining': '0',
          'x-ratelimit-scope': 'user',
          'retry-after': String(Math.max(1, Math.ceil(resetAfter))),
        },
        body: { message: 'You are being rate limited.', retry_after: resetAfter, global: false, code: 0 },
      };
    }
    bucket.count++;
    return { ...headers, 'x-ratelimit-remaining': String(limit.limit - bucket.count) };
  }

  private createMessage(channelId: string, body: Record<string, unknown>): FakeMessage {
    const message: FakeMessage = {
      id: snowflake(),
      channel_id: channelId,
      author: { id: this.botUserId, username: 'Coinhub', bot: true },
      content: (body.content as string) ?? '',
      embeds: (body.embeds as unknown[]) ?? [],
      components: (body.components as unknown[]) ?? [],
      edited_timestamp: null,
      timestamp: new Date().toISOString(),
      ...(body.nonce !== undefined ? { nonce: body.nonce as string | number } : {}),
    };
    const list = this.messages.get(channelId) ?? [];
    list.push(message);
    this.messages.set(channelId, list);
    return message;
  }

  private installRoutes(): void {
    const validMessage = (call: RecordedCall, body: unknown, create: boolean) => {
      const problems = messageProblems(body, { create });
      for (const p of problems) this.problem(call, p);
      return problems.length === 0 ? undefined : error(400, 50035, 'Invalid Form Body', problems);
    };
    const channelOr404 = (id: string) => this.channels.get(id);

    this.route('GET', '/guilds/:guild/channels', ({ params }) =>
      this.guilds.has(params.guild!)
        ? { status: 200, body: this.guildChannels(params.guild!) }
        : error(404, 10004, 'Unknown Guild'),
    );
    this.route('POST', '/guilds/:guild/channels', ({ params, body, call }) => {
      if (!this.guilds.has(params.guild!)) return error(404, 10004, 'Unknown Guild');
      const b = body as Partial<FakeChannel> | undefined;
      const problems: string[] = [];
      if (!b || typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 100)
        problems.push('name: 1 to 100');
      if (b?.topic && b.topic.length > 1024) problems.push('topic: at most 1024');
      for (const o of b?.permission_overwrites ?? []) {
        if (
          !/^\d+$/.test(o.id) ||
          (o.type !== 0 && o.type !== 1) ||
          !/^\d+$/.test(o.allow ?? '0') ||
          !/^\d+$/.test(o.deny ?? '0')
        )
          problems.push('permission_overwrites: {id, type 0|1, allow, deny as decimal strings}');
      }
      if (problems.length > 0) {
        problems.forEach((p) => this.problem(call, p));
        return error(400, 50035, 'Invalid Form Body', problems);
      }
      const channel: FakeChannel = {
        id: snowflake(),
        guild_id: params.guild!,
        type: b!.type ?? 0,
        name: b!.name!,
        topic: b!.topic ?? null,
        permission_overwrites: (b!.permission_overwrites ?? []).map((o) => ({
          ...o,
          allow: o.allow ?? '0',
          deny: o.deny ?? '0',
        })),
      };
      this.channels.set(channel.id, channel);
      return { status: 201, body: channel };
    });
    this.route('PUT', '/channels/:channel/permissions/:overwrite', ({ params, body, call }) => {
      const channel = channelOr404(params.channel!);
      if (!channel) return error(404, 10003, 'Unknown Channel');
      const b = body as { type?: number; allow?: string; deny?: string } | undefined;
      if (!b || (b.type !== 0 && b.type !== 1)) {
        this.problem(call, 'type: 0 (role) or 1 (member)');
        return error(400, 50035, 'Invalid Form Body');
      }
      const overwrite = { id: params.overwrite!, type: b.type, allow: b.allow ?? '0', deny: b.deny ?? '0' };
      channel.permission_overwrites = [
        ...channel.permission_overwrites.filter((o) => o.id !== overwrite.id),
        overwrite,
      ];
      return { status: 204 };
    });
    this.route('GET', '/channels/:channel/messages', ({ params, query }) => {
      if (!channelOr404(params.channel!)) return error(404, 10003, 'Unknown Channel');
      const limit = Math.min(100, Number(query.get('limit') ?? 50));
      return { status: 200, body: [...this.channelMessages(params.channel!)].reverse().slice(0, limit) };
    });
    this.route('POST', '/channels/:channel/messages', ({ params, body, call }) => {
      if (!channelOr404(params.channel!)) return error(404, 10003, 'Unknown Channel');
      const bad = validMessage(call, body, true);
      if (bad) return bad;
      const slot = this.takeMessageSlot(params.channel!);
      if ('status' in slot) return slot as ReturnType<Handler>;
      // Like Discord: with enforce_nonce, a recent message by the same author with the same nonce is returned
      // instead of creating a second one.
      const b = body as { nonce?: unknown; enforce_nonce?: unknown };
      if (
        b.nonce !== undefined &&
        (typeof b.nonce === 'number' || (typeof b.nonce === 'string' && b.nonce.length <= 25))
      ) {
        if (b.enforce_nonce === true) {
          const since = Date.now() - NONCE_WINDOW_MS;
          const earlier = this.channelMessages(params.channel!).find(
            (m) => m.nonce === b.nonce && m.author.id === this.botUserId && Date.parse(m.timestamp) >= since,
          );
          if (earlier) {
            this.nonceHits++;
            return { status: 200, body: earlier, headers: slot as Record<string, string> };
          }
        }
      } else if (b.nonce !== undefined) {
        this.problem(call, 'nonce: an integer or a string of at most 25 characters');
        return error(400, 50035, 'Invalid Form Body');
      }
      return {
        status: 200,
        body: this.createMessage(params.channel!, body as Record<string, unknown>),
        headers: slot as Record<string, string>,
      };
    });
    const findMessage = (channelId: string, messageId: string) =>
      this.channelMessages(channelId).find((m) => m.id === messageId);
    this.route('GET', '/channels/:channel/messages/:message', ({ params }) => {
      const m = findMessage(params.channel!, params.message!);
      return m ? { status: 200, body: m } : error(404, 10008, 'Unknown Message');
    });
    this.route('PATCH', '/channels/:channel/messages/:message', ({ params, body, call }) => {
      const m = findMessage(params.channel!, params.message!);
      if (!m) return error(404, 10008, 'Unknown Message');
      const bad = validMessage(call, body, false);
      if (bad) return bad;
      const b = body as Partial<FakeMessage>;
      Object.assign(m, {
        ...(b.content !== undefined ? { content: b.content } : {}),
        ...(b.embeds !== undefined ? { embeds: b.embeds } : {}),
        ...(b.components !== undefined ? { components: b.components } : {}),
        edited_timestamp: new Date().toISOString(),
      });
      return { status: 200, body: m };
    });
    this.route('DELETE', '/channels/:channel/messages/:message', ({ params }) => {
      const list = this.channelMessages(params.channel!);
      const i = list.findIndex((m) => m.id === params.message);
      if (i < 0) return error(404, 10008, 'Unknown Message');
      list.splice(i, 1);
      return { status: 204 };
    });
    this.route('POST', '/users/@me/channels', ({ body, call }) => {
      const recipient = (body as { recipient_id?: unknown } | undefined)?.recipient_id;
      if (typeof recipient !== 'string' || !/^\d+$/.test(recipient)) {
        this.problem(call, 'recipient_id: a snowflake');
        return error(400, 50035, 'Invalid Form Body');
      }
      const existing = [...this.channels.values()].find(
        (c) => c.type === 1 && c.recipients?.[0]?.id === recipient,
      );
      const channel = existing ?? {
        id: snowflake(),
        type: 1,
        permission_overwrites: [],
        recipients: [{ id: recipient }],
      };
      this.channels.set(channel.id, channel);
      return { status: 200, body: channel };
    });
    this.route(
      'PATCH',
      '/webhooks/:app/:token/messages/@original',
      ({ params, body, call }) => {
        const bad = validMessage(call, body, false);
        if (bad) return bad;
        const edits = this.responseEdits.get(params.token!) ?? [];
        edits.push(body);
        this.responseEdits.set(params.token!, edits);
        return { status: 200, body: { id: snowflake(), ...(body as object) } };
      },
      { bot: false },
    );
    this.route(
      'POST',
      '/webhooks/:app/:token',
      ({ body, call }) =>
        validMessage(call, body, true) ?? { status: 200, body: { id: snowflake(), ...(body as object) } },
      { bot: false },
    );
    const commandRoutes = (path: string, scopeOf: (p: Params) => string) => {
      this.route('GET', path, ({ params }) => ({
        status: 200,
        body: this.commands.get(scopeOf(params)) ?? [],
      }));
      this.route('PUT', path, ({ params, body, call }) => {
        const problems = commandProblems(body);
        if (problems.length > 0) {
          problems.forEach((p) => this.problem(call, p));
          return error(400, 50035, 'Invalid Form Body', problems);
        }
        const scope = scopeOf(params);
        const before = this.commands.get(scope) ?? [];
        const next = (body as Record<string, unknown>[]).map((c) => ({
          ...c,
          name: c.name as string,
          id: before.find((b) => b.name === c.name)?.id ?? snowflake(),
          application_id: params.app!,
          version: snowflake(),
        }));
        this.commands.set(scope, next);
        return { status: 200, body: next };
      });
    };
    commandRoutes('/applications/:app/commands', () => 'global');
    commandRoutes('/applications/:app/guilds/:guild/commands', (p) => p.guild!);
  }
}

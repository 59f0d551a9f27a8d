import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { discordError, snowflake, type Reply } from './http.ts';
import { messageProblems } from './limits.ts';
import { channelRoutes } from './routes/channels.ts';
import { commandRoutes } from './routes/commands.ts';
import { memberRoutes } from './routes/members.ts';
import { messageRoutes } from './routes/messages.ts';
import { webhookRoutes } from './routes/webhooks.ts';

/**
 * A local stand-in for Discord's REST API (v10) at its HTTP boundary: the tests' fake Discord and the
 * playground's (`npm run dev`). It keeps guilds, channels, messages, members, roles and application commands in
 * memory, records every call, checks the bot token and the bodies against Discord's limits (a bad call is
 * answered like Discord would and listed in `problems`), and can enforce a per-channel message rate limit with
 * the headers @discordjs/rest reads. Its routes come from route modules (`routes/`); tests and the playground
 * add or override routes with `route()`, and requests outside /api go to the `web` handler when one is given.
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

export interface FakeRole {
  id: string;
  name: string;
  color: number;
  position: number;
  permissions: string;
}

export interface FakeMember {
  user: { id: string; username: string; global_name: string | null };
  roles: string[];
  joined_at: string;
}

/** A follow-up message an interaction's token posted (`POST /webhooks/:app/:token`). */
export interface FakeFollowUp {
  id: string;
  token: string;
  body: Record<string, unknown>;
  at: number;
}

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface FakeDiscordOptions {
  /** The bot token every bot route must carry as `Authorization: Bot <token>`. */
  token: string;
  /** The bot's user id (author of its messages); Discord uses the application id. */
  botUserId?: string;
  /** Per-channel limit on message creation: `limit` messages per `windowMs`, 429 beyond. */
  messageRateLimit?: { limit: number; windowMs: number };
  /** Where to listen; by default a free port on 127.0.0.1. */
  port?: number;
  host?: string;
  /** Extra route modules (installed after the built-in ones, so they may override them). */
  modules?: RouteModule[];
  /** Answers requests outside /api (the playground's web page). */
  web?: WebHandler;
}

type Params = Record<string, string>;
/** A route's answer; a test's route may answer later (a promise), e.g. after acting while a call is in flight. */
export type Handler = (req: {
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

/** Installs a group of routes (channels, messages, OAuth2, …) on the stand-in. */
export type RouteModule = (api: FakeDiscordApi) => void;

/** The parts of Discord's API Coinhub uses, in the order they are installed. */
export const BUILT_IN_ROUTES: readonly RouteModule[] = [
  channelRoutes,
  messageRoutes,
  memberRoutes,
  webhookRoutes,
  commandRoutes,
];

export class FakeDiscordApi {
  readonly calls: RecordedCall[] = [];
  /** Every call that Discord would have refused for a reason other than a rate limit. */
  readonly problems: string[] = [];
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage[]>();
  readonly guilds = new Set<string>();
  /** Guild roles and members, by guild id. */
  readonly roles = new Map<string, FakeRole[]>();
  readonly members = new Map<string, Map<string, FakeMember>>();
  /** Application commands by scope: `global` or the guild id. */
  readonly commands = new Map<string, (Record<string, unknown> & { id: string; name: string })[]>();
  /** Bodies sent to edit interaction responses, by interaction token, in order. */
  readonly responseEdits = new Map<string, unknown[]>();
  /** Follow-up messages posted with interaction tokens, in order. */
  readonly followUps: FakeFollowUp[] = [];
  rateLimited = 0;
  /** Message creations answered with an earlier message because of `enforce_nonce`. */
  nonceHits = 0;
  /** Grows with every change a viewer could see (messages, channels, edits), so pages can poll cheaply. */
  version = 0;
  private readonly routes: Route[] = [];
  private readonly buckets = new Map<string, { count: number; resetAt: number }>();
  private server!: Server;
  private listeningAt = '';

  private constructor(readonly options: FakeDiscordOptions) {
    for (const install of [...BUILT_IN_ROUTES, ...(options.modules ?? [])]) install(this);
  }

  static async start(options: FakeDiscordOptions): Promise<FakeDiscordApi> {
    const fake = new FakeDiscordApi(options);
    fake.server = createServer((req, res) => void fake.handle(req, res));
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(options.port ?? 0, host, resolve);
    });
    fake.listeningAt = `http://${host}:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The value for DISCORD_API_BASE. */
  get url(): string {
    return `${this.listeningAt}/api`;
  }

  /** Where the stand-in listens: the value for DISCORD_OAUTH_BASE, and the playground's page when it has one. */
  get origin(): string {
    return this.listeningAt;
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
    if (!this.roles.has(guildId))
      // Like Discord, the @everyone role's id is the guild's.
      this.roles.set(guildId, [{ id: guildId, name: '@everyone', color: 0, position: 0, permissions: '0' }]);
    if (!this.members.has(guildId)) this.members.set(guildId, new Map());
    for (const c of channels) {
      const id = c.id ?? snowflake();
      this.channels.set(id, { type: 0, permission_overwrites: [], ...c, id, guild_id: guildId });
    }
    this.version++;
  }

  addRole(guildId: string, role: Pick<FakeRole, 'name'> & Partial<FakeRole>): FakeRole {
    const list = this.roles.get(guildId) ?? [];
    const made: FakeRole = { id: snowflake(), color: 0, position: list.length, permissions: '0', ...role };
    list.push(made);
    this.roles.set(guildId, list);
    return made;
  }

  addMember(guildId: string, member: Omit<FakeMember, 'joined_at'>): FakeMember {
    const made = { joined_at: new Date().toISOString(), ...member };
    const list = this.members.get(guildId) ?? new Map<string, FakeMember>();
    list.set(member.user.id, made);
    this.members.set(guildId, list);
    return made;
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

  /** Records a call Discord would have refused. */
  problem(call: RecordedCall, what: string): void {
    this.problems.push(`${call.method} ${call.path}: ${what}`);
  }

  /** Discord's 400 for a message body past its limits (recorded as problems), or nothing when it is fine. */
  refuseMessage(call: RecordedCall, body: unknown, create: boolean): Reply | undefined {
    const problems = messageProblems(body, { create });
    for (const p of problems) this.problem(call, p);
    return problems.length === 0 ? undefined : discordError(400, 50035, 'Invalid Form Body', problems);
  }

  /** Applies the per-channel message limit; returns a 429 when past it, else the headers to send. */
  takeMessageSlot(channelId: string): { refused: Reply } | { headers: Record<string, string> } {
    const limit = this.options.messageRateLimit;
    if (!limit) return { headers: {} };
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
        refused: {
          status: 429,
          headers: {
            ...headers,
            'x-ratelimit-remaining': '0',
            'x-ratelimit-scope': 'user',
            'retry-after': String(Math.max(1, Math.ceil(resetAfter))),
          },
          body: { message: 'You are being rate limited.', retry_after: resetAfter, global: false, code: 0 },
        },
      };
    }
    bucket.count++;
    return { headers: { ...headers, 'x-ratelimit-remaining': String(limit.limit - bucket.count) } };
  }

  /** Stores a message the bot posts in `channelId`. */
  createMessage(channelId: string, body: Record<string, unknown>): FakeMessage {
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
    this.version++;
    return message;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const isRootRoute = this.routes.some(
      (r) => r.root && r.method === req.method && r.pattern.test(url.pathname),
    );
    if (this.options.web && !url.pathname.startsWith('/api/') && !isRootRoute) {
      await this.options.web(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
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
      result = discordError(400, 50109, 'The request body contains invalid JSON.');
    }
    call.status = result.status;
    if (call.method !== 'GET' && result.status < 300) this.version++;
    // Like Discord, a 204 has no body and so no content type (a client would try to parse it).
    // A string body is a web page (its route sets the content type); anything else is JSON.
    const text = typeof result.body === 'string';
    res.writeHead(result.status, {
      ...(result.body === undefined || text ? {} : { 'content-type': 'application/json' }),
      ...result.headers,
    });
    res.end(result.body === undefined ? '' : text ? result.body : JSON.stringify(result.body));
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
        return discordError(401, 0, '401: Unauthorized');
      }
      if (r.auth === 'none' && call.authorization !== undefined)
        this.problem(call, 'webhook routes take no Authorization header');
      const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      return r.handler({ params, query: call.query, body: call.body, call });
    }
    this.problem(call, root ? 'not under /api/v10' : 'no such route in the fake');
    return discordError(404, 0, '404: Not Found');
  }
}

import { createHash, randomBytes } from 'node:crypto';
import type { FakeDiscordApi, FakeMember, RecordedCall } from './fake-api.ts';

/**
 * Discord's OAuth2 and guild-member routes for the fake Discord API: the authorize page (at the root, as
 * DISCORD_OAUTH_BASE), the token endpoint (client secret, single-use codes bound to their redirect, PKCE S256),
 * `users/@me` with the access token, and — with the bot token — a guild with its roles and owner. Members and
 * roles are the fake's own (its member routes answer them), so the playground's guild is the one the login reads.
 * With nobody signed in, the authorize page is a form to pick which guild member approves. Every refusal is
 * answered as Discord would and listed in the fake's `problems` when it means our server misbehaved.
 */

export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  /** The redirects registered in the Developer Portal; authorize refuses any other. */
  redirectUris: string[];
}

export interface FakeUser {
  id: string;
  username: string;
  global_name?: string | null;
  avatar?: string | null;
}

export interface FakeRole {
  id: string;
  name?: string;
  /** Decimal permission bitfield, as Discord sends it. */
  permissions: string;
}

interface Grant {
  userId: string;
  clientId: string;
  redirectUri: string;
  challenge: string | null;
  expiresAt: number;
}

const CODE_TTL_MS = 10 * 60_000;
const random = () => randomBytes(18).toString('base64url');
const oauthError = (status: number, error: string, description: string) => ({
  status,
  body: { error, error_description: description },
});

export class FakeDiscordOAuth {
  /** Users signed in with `signInAs` (guild members are found in the fake's guilds). */
  readonly users = new Map<string, FakeUser>();
  readonly owners = new Map<string, string>();
  /** Codes handed out by the authorize page and not yet exchanged. */
  readonly grants = new Map<string, Grant>();
  readonly accessTokens = new Map<string, string>();
  private approver: string | undefined;

  private constructor(
    private readonly fake: FakeDiscordApi,
    readonly app: OAuthApp,
  ) {}

  /** Adds the OAuth2 and member routes to `fake`. */
  static install(fake: FakeDiscordApi, app: OAuthApp): FakeDiscordOAuth {
    const oauth = new FakeDiscordOAuth(fake, app);
    oauth.installRoutes();
    return oauth;
  }

  /** The user who approves the next authorize request, as if they were logged in to discord.com. */
  signInAs(user: FakeUser): void {
    this.users.set(user.id, user);
    this.approver = user.id;
  }

  /** The fake's guild roles, by guild id (one source with its member routes). */
  get roles() {
    return this.fake.roles;
  }

  /** Adds `guildId` to the fake with its @everyone role (no permissions), `roles` and owner. */
  addGuild(guildId: string, ownerId: string, roles: FakeRole[] = []): void {
    this.fake.addGuild(guildId);
    this.owners.set(guildId, ownerId);
    this.fake.roles.set(guildId, [
      { id: guildId, name: '@everyone', color: 0, position: 0, permissions: '0' },
      ...roles.map((r, i) => ({ name: r.id, color: 0, position: i + 1, ...r })),
    ]);
  }

  /** Makes `user` a member of `guildId` holding `roleIds` (again: replaces their roles). */
  setMember(guildId: string, user: FakeUser, roleIds: string[] = []): void {
    const { id, username, global_name = null } = user;
    this.fake.addMember(guildId, { user: { id, username, global_name }, roles: roleIds });
  }

  removeMember(guildId: string, userId: string): void {
    this.fake.members.get(guildId)?.delete(userId);
  }

  private guildMembers(): FakeMember[] {
    return [...this.fake.members.values()].flatMap((members) => [...members.values()]);
  }

  private user(id: string): FakeUser | undefined {
    return this.users.get(id) ?? this.guildMembers().find((m) => m.user.id === id)?.user;
  }

  /** The authorize page with nobody signed in: pick a guild member, and the form asks again as them. */
  private picker(query: URLSearchParams): { status: number; headers: Record<string, string>; body: string } {
    const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const hidden = [...query]
      .filter(([k]) => k !== 'user_id')
      .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
      .join('');
    const options = this.guildMembers()
      .map((m) => `<option value="${m.user.id}">${escape(m.user.global_name ?? m.user.username)}</option>`)
      .join('');
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body:
        `<!doctype html><meta charset="utf-8"><title>Authorize — Discord stand-in</title>` +
        `<form method="get" action="/oauth2/authorize"><p>Log in to the application as:</p>` +
        `<select name="user_id">${options}</select>${hidden} <button type="submit">Authorize</button></form>`,
    };
  }

  private problem(call: RecordedCall, what: string) {
    this.fake.problems.push(`${call.method} ${call.path}: ${what}`);
  }

  private installRoutes(): void {
    const { fake, app } = this;

    fake.route(
      'GET',
      '/oauth2/authorize',
      ({ query, call }) => {
        const q = Object.fromEntries(query);
        if (q.client_id !== app.clientId) return oauthError(400, 'invalid_client', 'Unknown client_id');
        if (!q.redirect_uri || !app.redirectUris.includes(q.redirect_uri))
          return oauthError(400, 'invalid_request', 'Invalid OAuth2 redirect_uri');
        if (q.response_type !== 'code') {
          this.problem(call, 'response_type is not code');
          return oauthError(400, 'unsupported_response_type', 'response_type');
        }
        if (!(q.scope ?? '').split(' ').includes('identify')) {
          this.problem(call, 'scope lacks identify');
          return oauthError(400, 'invalid_scope', 'scope');
        }
        if (q.code_challenge !== undefined && q.code_challenge_method !== 'S256') {
          this.problem(call, 'PKCE without S256');
          return oauthError(400, 'invalid_request', 'code_challenge_method');
        }
        const approver = q.user_id ?? this.approver;
        if (approver === undefined)
          return this.guildMembers().length > 0
            ? this.picker(query)
            : oauthError(400, 'access_denied', 'nobody is signed in to the fake');
        if (!this.user(approver)) return oauthError(400, 'access_denied', 'no such user');
        const code = random();
        this.grants.set(code, {
          userId: approver,
          clientId: q.client_id,
          redirectUri: q.redirect_uri,
          challenge: q.code_challenge ?? null,
          expiresAt: Date.now() + CODE_TTL_MS,
        });
        const target = new URL(q.redirect_uri);
        target.searchParams.set('code', code);
        if (q.state !== undefined) target.searchParams.set('state', q.state);
        return { status: 302, headers: { location: target.toString() } };
      },
      { root: true, ownAuth: true },
    );

    fake.route(
      'POST',
      '/oauth2/token',
      ({ body, call }) => {
        const form = (body ?? {}) as Record<string, string>;
        let [id, secret] = [form.client_id, form.client_secret];
        const basic = /^Basic (.+)$/.exec(call.authorization ?? '');
        if (basic) [id, secret] = Buffer.from(basic[1]!, 'base64').toString().split(':');
        if (id !== app.clientId || secret !== app.clientSecret)
          return oauthError(401, 'invalid_client', 'client authentication failed');
        if (form.grant_type !== 'authorization_code')
          return oauthError(400, 'unsupported_grant_type', 'grant_type');
        const grant = form.code ? this.grants.get(form.code) : undefined;
        // A code is spent by its first exchange, whatever the outcome.
        if (form.code) this.grants.delete(form.code);
        if (!grant || grant.expiresAt < Date.now() || grant.clientId !== id)
          return oauthError(400, 'invalid_grant', 'Invalid "code" in request.');
        if (form.redirect_uri !== grant.redirectUri)
          return oauthError(400, 'invalid_grant', 'Invalid "redirect_uri" in request.');
        if (grant.challenge !== null) {
          const verifier = form.code_verifier ?? '';
          const computed = createHash('sha256').update(verifier).digest('base64url');
          if (computed !== grant.challenge)
            return oauthError(400, 'invalid_grant', 'Invalid "code_verifier" in request.');
        }
        const accessToken = random();
        this.accessTokens.set(accessToken, grant.userId);
        return {
          status: 200,
          body: {
            access_token: accessToken,
            token_type: 'Bearer',
            expires_in: 604800,
            refresh_token: random(),
            scope: 'identify',
          },
        };
      },
      { ownAuth: true },
    );

    fake.route(
      'GET',
      '/users/@me',
      ({ call }) => {
        const token = /^Bearer (.+)$/.exec(call.authorization ?? '')?.[1];
        const user = token ? this.user(this.accessTokens.get(token) ?? '') : undefined;
        if (!user) return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
        return {
          status: 200,
          body: { global_name: null, avatar: null, discriminator: '0', ...user },
        };
      },
      { ownAuth: true },
    );

    fake.route('GET', '/guilds/:guild', ({ params }) => {
      const roles = fake.roles.get(params.guild!);
      if (!roles) return { status: 404, body: { message: 'Unknown Guild', code: 10004 } };
      return {
        status: 200,
        body: { id: params.guild, name: 'Coinhub test', owner_id: this.owners.get(params.guild!), roles },
      };
    });
  }
}

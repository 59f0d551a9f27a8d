import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscordApi } from './fake-api.ts';
import { FakeDiscordOAuth } from './discord-oauth.ts';

// The fake must refuse what Discord refuses, or the login tests would pass against a server that cheats.
let fake: FakeDiscordApi;
let oauth: FakeDiscordOAuth;
const REDIRECT = 'http://127.0.0.1:1/auth/discord/callback';
const verifier = 'v'.repeat(43);
const challenge = createHash('sha256').update(verifier).digest('base64url');

beforeAll(async () => {
  fake = await FakeDiscordApi.start({ token: 'bot' });
  oauth = FakeDiscordOAuth.install(fake, { clientId: '1', clientSecret: 'secret', redirectUris: [REDIRECT] });
  oauth.signInAs({ id: '560000000000000001', username: 'someone' });
});
afterAll(() => fake.close());

/** The authorize URL our login sends the browser to, on the fake at `origin`. */
function authorizeUrl(origin: string, params: Record<string, string> = {}): URL {
  const url = new URL(`${origin}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: '1',
    scope: 'identify',
    redirect_uri: REDIRECT,
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...params,
  }).toString();
  return url;
}
const authorize = (params: Record<string, string> = {}) =>
  fetch(authorizeUrl(fake.origin, params), { redirect: 'manual' });
const codeOf = async () => new URL((await authorize()).headers.get('location')!).searchParams.get('code')!;

function token(form: Record<string, string>, secret = 'secret') {
  return fetch(`${fake.url}/v10/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`1:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: REDIRECT, ...form }),
  });
}

describe('fake Discord OAuth2', () => {
  it('refuses an unregistered redirect and another client at the authorize page', async () => {
    expect((await authorize({ redirect_uri: 'https://evil.example/cb' })).status).toBe(400);
    expect((await authorize({ client_id: '2' })).status).toBe(400);
  });

  it('exchanges a code once, with the client secret and the PKCE verifier, for a token users/@me accepts', async () => {
    expect((await token({ code: await codeOf(), code_verifier: verifier }, 'wrong')).status).toBe(401);
    expect((await token({ code: await codeOf(), code_verifier: 'x'.repeat(43) })).status).toBe(400);
    const code = await codeOf();
    const ok = await token({ code, code_verifier: verifier });
    expect(ok.status).toBe(200);
    const { access_token } = (await ok.json()) as { access_token: string };
    expect((await token({ code, code_verifier: verifier })).status).toBe(400);
    const user = await fetch(`${fake.url}/v10/users/@me`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(await user.json()).toMatchObject({ id: '560000000000000001', username: 'someone' });
    expect(
      (await fetch(`${fake.url}/v10/users/@me`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
  });

  it('answers guild members with the bot token only, and 10007 for a non-member', async () => {
    oauth.addGuild('960000000000000001', '560000000000000001');
    oauth.setMember('960000000000000001', { id: '560000000000000002', username: 'm' }, [
      '960000000000000005',
    ]);
    const member = (user: string, auth = 'Bot bot') =>
      fetch(`${fake.url}/v10/guilds/960000000000000001/members/${user}`, {
        headers: { authorization: auth },
      });
    expect(await (await member('560000000000000002')).json()).toMatchObject({
      roles: ['960000000000000005'],
    });
    expect(await (await member('560000000000000009')).json()).toMatchObject({ code: 10007 });
    expect((await member('560000000000000002', 'Bearer x')).status).toBe(401);
  });
});

describe('fake Discord OAuth2 with nobody signed in', () => {
  it('asks which guild member approves, escaping names and carrying the query, and refuses an unknown user', async () => {
    const own = await FakeDiscordApi.start({ token: 'bot' });
    try {
      const login = FakeDiscordOAuth.install(own, {
        clientId: '1',
        clientSecret: 's',
        redirectUris: [REDIRECT],
      });
      login.addGuild('960000000000000001', '560000000000000001');
      login.setMember('960000000000000001', {
        id: '560000000000000007',
        username: 'x',
        global_name: '<b>Bo</b>',
      });
      const url = authorizeUrl(own.origin, { state: '"s"' });
      const page = await fetch(url);
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      expect(html).toContain('<option value="560000000000000007">&#60;b&#62;Bo&#60;/b&#62;</option>');
      expect(html).toContain('<input type="hidden" name="state" value="&#34;s&#34;">');

      url.searchParams.set('user_id', '560000000000000009');
      expect((await fetch(url, { redirect: 'manual' })).status).toBe(400);
      url.searchParams.set('user_id', '560000000000000007');
      const approved = await fetch(url, { redirect: 'manual' });
      expect(new URL(approved.headers.get('location')!).searchParams.get('state')).toBe('"s"');
    } finally {
      await own.close();
    }
  });
});

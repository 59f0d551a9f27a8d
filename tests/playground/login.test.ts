import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlaygroundServer, type PlaygroundServer } from '../helpers/playground-server.ts';

const SESSION_COOKIE = '__Host-coinhub_session';
const LOGIN_COOKIE = '__Host-coinhub_login';

let rig: PlaygroundServer;

beforeAll(async () => {
  rig = await startPlaygroundServer();
});

afterAll(async () => {
  await rig?.stop();
});

function cookie(res: Response, name: string): string | undefined {
  const line = res.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));
  return line?.split(';')[0]!.slice(name.length + 1) || undefined;
}

const get = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers, redirect: 'manual' });

/** The panel login as a browser does it, picking `memberKey` on the stand-in's authorize page. */
async function logInAs(memberKey: string) {
  const start = await get(`${rig.server.url}/auth/discord/login`);
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get('location')!);
  expect(authorize.origin).toBe(rig.playground.url);

  const page = await get(authorize.toString());
  expect(page.status).toBe(200);
  const html = await page.text();
  const member = rig.playground.members.find((m) => m.key === memberKey)!;
  expect(html).toContain(`<option value="${member.id}">${member.name}</option>`);

  // The picker's form asks again with the same query plus the chosen member.
  authorize.searchParams.set('user_id', member.id);
  const approved = await get(authorize.toString());
  expect(approved.status).toBe(302);
  const callback = approved.headers.get('location')!;
  expect(callback.startsWith(`${rig.server.url}/auth/discord/callback?`)).toBe(true);
  return get(callback, { cookie: `${LOGIN_COOKIE}=${cookie(start, LOGIN_COOKIE)}` });
}

describe('the panel login against npm run dev’s Discord stand-in', () => {
  it('logs the playground admin (the guild owner) in with a session that /api/me answers as owner', async () => {
    const res = await logInAs('ada');
    expect(res.status).toBe(302);
    const session = cookie(res, SESSION_COOKIE);
    expect(session).toBeDefined();
    const me = await get(`${rig.server.url}/api/me`, { cookie: `${SESSION_COOKIE}=${session}` });
    expect(me.status).toBe(200);
    const ada = rig.playground.members.find((m) => m.key === 'ada')!;
    expect(await me.json()).toMatchObject({ role: 'owner', user: { discordId: ada.id, username: 'ada' } });
  });

  it('lets the moderator in as moderator once the guild maps their Discord role', async () => {
    const { guildId } = rig.playground;
    const moderatorRole = rig.playground.api.roles.get(guildId)!.find((r) => r.name === 'Moderator')!;
    const roleMap = JSON.stringify({ moderator: [moderatorRole.id] });
    await rig.db.db
      .insertInto('guild_settings')
      .values({ guild_id: guildId, role_map: roleMap })
      .onConflict((oc) => oc.column('guild_id').doUpdateSet({ role_map: roleMap }))
      .execute();
    const res = await logInAs('mia');
    expect(res.status).toBe(302);
    const me = await get(`${rig.server.url}/api/me`, {
      cookie: `${SESSION_COOKIE}=${cookie(res, SESSION_COOKIE)}`,
    });
    expect(await me.json()).toMatchObject({ role: 'moderator' });
  });

  it('turns a player away with No access and no session', async () => {
    const res = await logInAs('alex');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('No access');
    expect(cookie(res, SESSION_COOKIE)).toBeUndefined();
  });
});

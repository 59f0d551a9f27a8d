import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db.ts';
import {
  ACTIONS,
  GRANTEES,
  ROLES,
  can,
  memberRole,
  parseRoleMap,
  requirePermission,
  resolveRole,
  systemActor,
  type Action,
  type Actor,
  type Grantee,
  type Role,
} from './rbac.ts';

// The matrix as the product defines it, written out independently of PERMISSIONS: Y = allowed.
//                                   owner admin  mod  viewer player system
const EXPECTED: Record<Action, [string, string, string, string, string, string]> = {
  'feed.view': ['Y', 'Y', 'Y', 'Y', '-', '-'],
  'audit.view': ['Y', 'Y', 'Y', '-', '-', '-'],
  'tx.refund': ['Y', 'Y', 'Y', '-', '-', '-'],
  'tx.note': ['Y', 'Y', 'Y', '-', '-', '-'],
  'order.fulfil': ['Y', 'Y', 'Y', '-', '-', '-'],
  'order.cancel': ['Y', 'Y', 'Y', '-', '-', '-'],
  'user.freeze': ['Y', 'Y', 'Y', '-', '-', '-'],
  'balance.adjust': ['Y', 'Y', '-', '-', '-', '-'],
  'market.manage': ['Y', 'Y', '-', '-', '-', '-'],
  'settings.change': ['Y', 'Y', '-', '-', '-', '-'],
  'roles.change': ['Y', '-', '-', '-', '-', '-'],
  'tokens.manage': ['Y', '-', '-', '-', '-', '-'],
  'market.trade': ['Y', 'Y', 'Y', 'Y', 'Y', '-'],
  'order.timers': ['-', '-', '-', '-', '-', 'Y'],
};

const actorOf = (grantee: Grantee): Actor =>
  grantee === 'system'
    ? systemActor('test')
    : {
        kind: 'member',
        userId: '42',
        role: grantee === 'player' ? null : grantee,
        source: 'discord',
        requestId: 'i-1',
      };

describe('permission matrix', () => {
  it('covers exactly the actions the product defines', () => {
    expect([...ACTIONS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  const cells = ACTIONS.flatMap((action) =>
    GRANTEES.map((grantee, i) => ({ action, grantee, allowed: EXPECTED[action][i] === 'Y' })),
  );
  it.each(cells)('$grantee × $action → allowed=$allowed', ({ action, grantee, allowed }) => {
    const actor = actorOf(grantee);
    expect(can(actor, action)).toBe(allowed);
    expect(can(grantee, action)).toBe(allowed);
    if (allowed) expect(() => requirePermission(actor, action)).not.toThrow();
    else
      expect(() => requirePermission(actor, action)).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });

  const staffOnly = ACTIONS.filter((a) => !['market.trade', 'order.timers'].includes(a));
  it.each(staffOnly)('a member without a Coinhub role may not %s', (action) => {
    expect(can(null, action)).toBe(false);
    expect(() => requirePermission(actorOf('player'), action)).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });

  it('reads a member with no role as a plain player', () => {
    expect(ROLES.every((role: Role) => can(role, 'market.trade'))).toBe(true);
    expect(can(null, 'market.trade')).toBe(true);
  });

  it('matches the table in docs/rbac.md', () => {
    const doc = readFileSync(new URL('../docs/rbac.md', import.meta.url), 'utf8');
    const rows = doc.split('\n').filter((l) => /^\| `[a-z]+\.[a-z]+`/.test(l));
    expect(rows.map((l) => /`([^`]+)`/.exec(l)![1]).sort()).toEqual([...ACTIONS].sort());
    for (const action of ACTIONS) {
      const line = rows.find((l) => l.startsWith(`| \`${action}\``));
      expect(line, `docs/rbac.md has a row for ${action}`).toBeDefined();
      const marks = line!
        .split('|')
        .slice(2, 8)
        .map((c) => (c.includes('✅') ? 'Y' : '-'));
      expect(marks, action).toEqual(EXPECTED[action]);
    }
  });
});

describe('resolveRole', () => {
  const map = parseRoleMap({
    admin: ['200000000000000001'],
    moderator: ['200000000000000002'],
    viewer: ['200000000000000003'],
  });

  it('treats Discord Administrator as owner whatever the roles', () => {
    expect(resolveRole({ permissions: String(1n << 3n), roleIds: [] }, map)).toBe('owner');
    expect(
      resolveRole({ permissions: String((1n << 3n) | (1n << 40n)), roleIds: ['200000000000000003'] }, map),
    ).toBe('owner');
  });

  it('picks the strongest mapped role the member holds', () => {
    const roles = (ids: string[]): Role | null => resolveRole({ permissions: '0', roleIds: ids }, map);
    expect(roles(['200000000000000003'])).toBe('viewer');
    expect(roles(['200000000000000003', '200000000000000002'])).toBe('moderator');
    expect(roles(['200000000000000002', '200000000000000001'])).toBe('admin');
    expect(roles(['999999999999999999'])).toBeNull();
    expect(roles([])).toBeNull();
  });

  it('ignores permissions without the Administrator bit, and garbage', () => {
    expect(resolveRole({ permissions: String((1n << 40n) | 4n), roleIds: [] }, map)).toBeNull();
    expect(resolveRole({ permissions: 'not-a-number', roleIds: [] }, map)).toBeNull();
    expect(resolveRole({ permissions: null, roleIds: ['200000000000000001'] }, map)).toBe('admin');
  });

  it('reads a malformed stored mapping as no mapping', () => {
    expect(parseRoleMap({ admin: 'not-a-list' })).toEqual({});
    expect(parseRoleMap({ superuser: ['200000000000000001'] })).toEqual({});
    expect(parseRoleMap(null)).toEqual({});
  });
});

describe('memberRole', () => {
  const HOME = '900000000000000001';
  const MOD_ROLE = '200000000000000002';
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase(2);
    await t.db
      .insertInto('guild_settings')
      .values([
        { guild_id: HOME, role_map: JSON.stringify({ moderator: [MOD_ROLE] }) },
        { guild_id: '900000000000000009', role_map: JSON.stringify({ owner: [MOD_ROLE] }) },
      ])
      .execute();
  });
  afterAll(async () => {
    await t.drop();
  });

  it("resolves the home guild's roles and nothing from any other guild or outside a guild", async () => {
    const member = { permissions: '0', roleIds: [MOD_ROLE] };
    expect(await memberRole(t.db, HOME, { ...member, guildId: HOME })).toBe('moderator');
    expect(await memberRole(t.db, HOME, { ...member, guildId: '900000000000000009' })).toBeNull();
    const administrator = { permissions: String(1n << 3n), roleIds: [] };
    expect(await memberRole(t.db, HOME, { ...administrator, guildId: HOME })).toBe('owner');
    expect(await memberRole(t.db, HOME, { ...administrator, guildId: '900000000000000009' })).toBeNull();
    expect(await memberRole(t.db, HOME, { ...administrator, guildId: null })).toBeNull();
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  ROLES,
  can,
  parseRoleMap,
  requirePermission,
  resolveRole,
  type Action,
  type Role,
} from './rbac.ts';

// The matrix as the product defines it, written out independently of PERMISSIONS: Y = allowed.
//                                   owner admin  mod  viewer
const EXPECTED: Record<Action, [string, string, string, string]> = {
  'feed.view': ['Y', 'Y', 'Y', 'Y'],
  'audit.view': ['Y', 'Y', 'Y', '-'],
  'tx.refund': ['Y', 'Y', 'Y', '-'],
  'tx.note': ['Y', 'Y', 'Y', '-'],
  'order.fulfil': ['Y', 'Y', 'Y', '-'],
  'order.cancel': ['Y', 'Y', 'Y', '-'],
  'user.freeze': ['Y', 'Y', 'Y', '-'],
  'balance.adjust': ['Y', 'Y', '-', '-'],
  'market.manage': ['Y', 'Y', '-', '-'],
  'settings.change': ['Y', 'Y', '-', '-'],
  'roles.change': ['Y', '-', '-', '-'],
  'tokens.manage': ['Y', '-', '-', '-'],
};

describe('permission matrix', () => {
  it('covers exactly the actions the product defines', () => {
    expect([...ACTIONS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  const cells = ACTIONS.flatMap((action) =>
    ROLES.map((role, i) => ({ action, role, allowed: EXPECTED[action][i] === 'Y' })),
  );
  it.each(cells)('$role × $action → allowed=$allowed', ({ action, role, allowed }) => {
    expect(can(role, action)).toBe(allowed);
    if (allowed) expect(() => requirePermission(role, action)).not.toThrow();
    else
      expect(() => requirePermission(role, action)).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });

  it.each(ACTIONS)('a member without a Coinhub role may not %s', (action) => {
    expect(can(null, action)).toBe(false);
    expect(() => requirePermission(null, action)).toThrow(expect.objectContaining({ status: 403 }));
  });

  it('matches the table in docs/rbac.md', () => {
    const doc = readFileSync(new URL('../docs/rbac.md', import.meta.url), 'utf8');
    for (const action of ACTIONS) {
      const line = doc.split('\n').find((l) => l.startsWith(`| \`${action}\``));
      expect(line, `docs/rbac.md has a row for ${action}`).toBeDefined();
      const marks = line!
        .split('|')
        .slice(2, 6)
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

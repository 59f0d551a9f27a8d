import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can, ROLES, type Action, type Role } from '../../economy/rbac.ts';
import { cancelListing, createListing } from '../../economy/market/listings.ts';
import { insertUsers } from '../helpers/db.ts';
import { startApiRig, type ApiRig } from '../helpers/api.ts';
import { player, settings } from '../market/fixtures.ts';

// Every endpoint × every role against the permission table (economy/rbac.ts): the API adds no rule of its own,
// so a role gets 403 exactly where the table says it may not act. Targets that do not exist keep the allowed
// calls from changing anything (they answer 404 or 400 after the permission check); nothing is written either way.
let api: ApiRig;
let users: string[];
const NONE = '999999999';
/** A listing a player ended: only staff who manage the market reach its state check (409), others get 403. */
const ENDED_LISTING = '{ended-listing}';
let endedListing: string;

interface Endpoint {
  method: string;
  path: string;
  body?: unknown;
  action: Action;
  moves?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  { method: 'GET', path: '/dashboard', action: 'feed.view' },
  { method: 'GET', path: '/settings', action: 'feed.view' },
  { method: 'PATCH', path: '/settings', body: { values: { dailyBase: 100 } }, action: 'settings.change' },
  { method: 'GET', path: '/users', action: 'feed.view' },
  { method: 'GET', path: `/users/${NONE}`, action: 'feed.view' },
  { method: 'GET', path: `/users/${NONE}/transfers`, action: 'feed.view' },
  {
    method: 'POST',
    path: `/users/${NONE}/adjust`,
    body: { amount: 1, reason: 'x' },
    action: 'balance.adjust',
    moves: true,
  },
  { method: 'POST', path: `/users/${NONE}/freeze`, body: { reason: 'x' }, action: 'user.freeze' },
  { method: 'POST', path: `/users/${NONE}/unfreeze`, body: {}, action: 'user.freeze' },
  { method: 'GET', path: '/transfers', action: 'feed.view' },
  { method: 'GET', path: `/transfers/${NONE}`, action: 'feed.view' },
  { method: 'POST', path: `/transfers/${NONE}/refund`, body: {}, action: 'tx.refund', moves: true },
  { method: 'POST', path: `/transfers/${NONE}/notes`, body: { note: 'x' }, action: 'tx.note' },
  { method: 'GET', path: '/market/catalog', action: 'feed.view' },
  {
    method: 'POST',
    path: '/market/catalog',
    body: { name: '', kind: 'other', basePrice: 0 },
    action: 'market.manage',
  },
  {
    method: 'PUT',
    path: `/market/catalog/${NONE}`,
    body: { name: 'x', kind: 'other', basePrice: 1 },
    action: 'market.manage',
  },
  { method: 'DELETE', path: `/market/catalog/${NONE}`, action: 'market.manage' },
  { method: 'GET', path: `/market/catalog/${NONE}/prices`, action: 'feed.view' },
  { method: 'GET', path: '/market/listings', action: 'feed.view' },
  {
    method: 'POST',
    path: '/market/listings',
    body: { catalogItemId: NONE, unitPrice: 1, quantity: 1 },
    action: 'market.manage',
  },
  {
    method: 'PATCH',
    path: `/market/listings/${ENDED_LISTING}`,
    body: { unitPrice: 5 },
    action: 'market.manage',
  },
  { method: 'POST', path: `/market/listings/${ENDED_LISTING}/pause`, action: 'market.manage' },
  { method: 'POST', path: `/market/listings/${ENDED_LISTING}/resume`, action: 'market.manage' },
  {
    method: 'POST',
    path: `/market/listings/${NONE}/end`,
    body: { reason: 'xyz' },
    action: 'order.cancel',
  },
  {
    method: 'POST',
    path: `/market/listings/${NONE}/guard-override`,
    body: { reason: 'xyz' },
    action: 'market.manage',
  },
  { method: 'GET', path: '/market/orders', action: 'feed.view' },
  { method: 'GET', path: `/market/orders/${NONE}`, action: 'feed.view' },
  {
    method: 'POST',
    path: `/market/orders/${NONE}/refund`,
    body: { reason: 'xyz' },
    action: 'tx.refund',
    moves: true,
  },
  {
    method: 'POST',
    path: `/market/orders/${NONE}/fulfil`,
    body: { reason: 'xyz' },
    action: 'order.fulfil',
    moves: true,
  },
  { method: 'GET', path: '/audit', action: 'audit.view' },
  { method: 'GET', path: '/audit/export.csv', action: 'audit.view' },
  { method: 'GET', path: '/tx/stream?lastEventId=999999999999', action: 'feed.view' },
  { method: 'GET', path: '/guild/role-map', action: 'feed.view' },
  { method: 'PUT', path: '/guild/role-map', body: { roleMap: {} }, action: 'roles.change' },
];

beforeAll(async () => {
  api = await startApiRig({ env: { GUILD_ID: '690000000000000001' } });
  users = (await insertUsers(api.t.db, ROLES.length + 1, 670_000_000_000_000_000n)).map((u) => u.id);
  const seller = player(users[ROLES.length]!);
  const listing = await createListing(api.t.db, settings, seller, {
    title: 'Walk',
    unitPrice: 10,
    quantity: 1,
  });
  endedListing = (await cancelListing(api.t.db, seller, listing.id)).id;
});

afterAll(async () => {
  await api?.close();
});

const writes = async () => {
  const [a, t, s] = await Promise.all(
    (['audit_log', 'transfers', 'economy_settings'] as const).map((table) =>
      api.t.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow(),
    ),
  );
  return [a!.n, t!.n, s!.n].map(Number);
};

let key = 0;
async function call(e: Endpoint, role: Role) {
  const as = { userId: users[ROLES.indexOf(role)]!, role };
  const path = e.path.replace(ENDED_LISTING, endedListing);
  if (e.path.startsWith('/tx/stream')) {
    const res = await api.app.request(`/api${e.path}`, {
      headers: { 'x-test-user': as.userId, 'x-test-role': role },
    });
    await res.body?.cancel();
    return res.status;
  }
  const headers = e.moves ? { 'idempotency-key': `role-walk-${++key}-${role}` } : undefined;
  return (await api.call(as, e.method, path, e.body, headers)).status;
}

describe('every endpoint × every role', () => {
  for (const e of ENDPOINTS) {
    it(`${e.method} ${e.path} (${e.action})`, async () => {
      const before = await writes();
      for (const role of ROLES) {
        const status = await call(e, role);
        if (can(role, e.action)) expect(status, role).not.toBe(403);
        else expect(status, role).toBe(403);
      }
      expect(await writes()).toEqual(before);
    });
  }
});

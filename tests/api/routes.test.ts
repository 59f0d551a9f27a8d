import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Market } from '../../economy/market/market.ts';
import { SYSTEM_ACCOUNTS } from '../../economy/ledger.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import { balanceOf, fundWallets, insertUsers, transferCount } from '../helpers/db.ts';
import { startApiRig, type ApiRig, type As } from '../helpers/api.ts';
import { settings as marketSettings, player } from '../market/fixtures.ts';

let api: ApiRig;
let owner: As;
let admin: As;
let moderator: As;
let viewer: As;
let alice: string;
let bob: string;
const GUILD = '680000000000000001';
let key = 0;
const idem = () => ({ 'idempotency-key': `test-key-${Date.now()}-${++key}` });

beforeAll(async () => {
  api = await startApiRig({ env: { GUILD_ID: GUILD } });
  const users = await insertUsers(api.t.db, 6, 620_000_000_000_000_000n);
  const as = (i: number, role: As['role']): As => ({ userId: users[i]!.id, role });
  [owner, admin, moderator, viewer] = [as(0, 'owner'), as(1, 'admin'), as(2, 'moderator'), as(3, 'viewer')];
  alice = users[4]!.id;
  bob = users[5]!.id;
  await api.t.db
    .updateTable('users')
    .set({ username: 'alice_wonder', global_name: 'Alice W' })
    .where('id', '=', alice)
    .execute();
  await fundWallets(api.ledger, [alice, bob], 1000);
});

afterAll(async () => {
  await api?.close();
});

const audits = async () =>
  Number(
    (
      await api.t.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('the API surface', () => {
  it('serves its OpenAPI document publicly, covering every route', async () => {
    const res = await api.call(null, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/settings',
        '/users',
        '/users/{id}',
        '/users/{id}/adjust',
        '/transfers/{id}/refund',
        '/market/catalog',
        '/market/orders/{id}/refund',
        '/audit/export.csv',
      ]),
    );
  });

  it('refuses callers without a session or token', async () => {
    const res = await api.call(null, 'GET', '/users');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
  });

  it('answers malformed input with invalid_request', async () => {
    const res = await api.call(admin, 'GET', '/users?limit=0');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('limit'),
    });
    expect((await api.call(admin, 'GET', '/users?cursor=!!')).body.error.code).toBe('invalid_cursor');
  });
});

describe('users', () => {
  it('finds users by part of their name, by id and by Discord id, paged by cursor', async () => {
    const byName = await api.call(viewer, 'GET', '/users?q=WONDER');
    expect(byName.body.items.map((u: { id: string }) => u.id)).toEqual([alice]);
    expect(byName.body.items[0]).toMatchObject({ balance: 1000, frozen: false, globalName: 'Alice W' });
    expect((await api.call(viewer, 'GET', `/users?q=${alice}`)).body.items[0].id).toBe(alice);
    const discordId = byName.body.items[0].discordId;
    expect((await api.call(viewer, 'GET', `/users?q=${discordId}`)).body.items[0].id).toBe(alice);

    const first = await api.call(viewer, 'GET', '/users?limit=4');
    expect(first.body.items).toHaveLength(4);
    const second = await api.call(viewer, 'GET', `/users?limit=4&cursor=${first.body.nextCursor}`);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((u: { id: string }) => u.id);
    expect(new Set(ids).size).toBe(6);
  });

  it('shows a profile and its transfer history', async () => {
    const res = await api.call(viewer, 'GET', `/users/${alice}`);
    expect(res.body).toMatchObject({ id: alice, balance: 1000, held: 0, frozen: null, orders: [] });
    const history = await api.call(viewer, 'GET', `/users/${alice}/transfers`);
    expect(history.body.items).toHaveLength(1);
    expect(history.body.items[0]).toMatchObject({ reason: 'seed', amount: 1000, to: { userId: alice } });
    expect((await api.call(viewer, 'GET', '/users/999999')).status).toBe(404);
  });

  it('adjusts a balance once per Idempotency-Key: a retry gets the first answer, another body 409', async () => {
    const before = await transferCount(api.t.db);
    const missing = await api.call(admin, 'POST', `/users/${alice}/adjust`, { amount: 50, reason: 'prize' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('idempotency_key_required');

    const headers = idem();
    const first = await api.call(
      admin,
      'POST',
      `/users/${alice}/adjust`,
      { amount: 50, reason: 'prize' },
      headers,
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ balanceBefore: 1000, balanceAfter: 1050, user: { balance: 1050 } });
    const retry = await api.call(
      admin,
      'POST',
      `/users/${alice}/adjust`,
      { amount: 50, reason: 'prize' },
      headers,
    );
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const other = await api.call(
      admin,
      'POST',
      `/users/${alice}/adjust`,
      { amount: 60, reason: 'prize' },
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');

    expect(await transferCount(api.t.db)).toBe(before + 1);
    expect(await balanceOf(api.t.db, alice)).toBe(1050);
  });

  it('refuses a moderator an adjustment and moves nothing', async () => {
    const before = { transfers: await transferCount(api.t.db), audits: await audits() };
    const res = await api.call(
      moderator,
      'POST',
      `/users/${alice}/adjust`,
      { amount: 5, reason: 'x' },
      idem(),
    );
    expect(res.status).toBe(403);
    expect(await transferCount(api.t.db)).toBe(before.transfers);
    expect(await audits()).toBe(before.audits);
  });

  it('freezes and unfreezes with an audited reason, returning the new state', async () => {
    const frozen = await api.call(moderator, 'POST', `/users/${bob}/freeze`, { reason: 'chargeback' });
    expect(frozen.body).toMatchObject({
      changed: true,
      frozen: true,
      user: { frozen: { reason: 'chargeback' } },
    });
    expect(frozen.body.audit).toMatchObject({ action: 'user.freeze', source: 'panel', target: { id: bob } });
    const again = await api.call(moderator, 'POST', `/users/${bob}/freeze`, { reason: 'chargeback' });
    expect(again.body).toMatchObject({ changed: false, audit: null });
    const thawed = await api.call(moderator, 'POST', `/users/${bob}/unfreeze`, {});
    expect(thawed.body).toMatchObject({ changed: true, frozen: false, user: { frozen: null } });
    expect((await api.call(moderator, 'POST', `/users/${bob}/freeze`, { reason: '' })).status).toBe(400);
  });
});

describe('transfers', () => {
  it('filters by user, reason and time, and shows one transfer with its refund', async () => {
    const pay = await api.ledger.transfer({
      key: 'api-test-pay',
      debit: alice,
      credit: bob,
      amount: 30,
      reason: 'pay',
    });
    if (!pay.ok) throw new Error('payment refused');
    const list = await api.call(viewer, 'GET', `/transfers?user=${bob}&reason=pay`);
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([pay.transferId]);
    const future = await api.call(viewer, 'GET', `/transfers?from=2999-01-01`);
    expect(future.body.items).toEqual([]);

    const headers = idem();
    const refund = await api.call(
      moderator,
      'POST',
      `/transfers/${pay.transferId}/refund`,
      { reason: 'mistake' },
      headers,
    );
    expect(refund.status).toBe(200);
    expect(refund.body).toMatchObject({
      changed: true,
      outcome: 'reversed',
      amount: 30,
      transfer: { refundable: false },
    });
    expect(refund.body.related).toHaveLength(1);
    expect(refund.body.actions[0]).toMatchObject({ action: 'tx.refund', reason: 'mistake' });
    const retry = await api.call(
      moderator,
      'POST',
      `/transfers/${pay.transferId}/refund`,
      { reason: 'mistake' },
      headers,
    );
    expect(retry.body).toEqual(refund.body);
    expect(await balanceOf(api.t.db, bob)).toBe(1000);

    const note = await api.call(moderator, 'POST', `/transfers/${pay.transferId}/notes`, {
      note: 'see ticket 12',
    });
    expect(note.body.audit).toMatchObject({ action: 'tx.note', after: { note: 'see ticket 12' } });
    expect(note.body.actions.map((a: { action: string }) => a.action)).toEqual(['tx.refund', 'tx.note']);
    expect((await checkLedger(api.t.db)).ok).toBe(true);
  });
});

describe('market', () => {
  it('runs the catalog, an official listing and its order through the API', async () => {
    const bad = await api.call(admin, 'POST', '/market/catalog', {
      name: 'Diamond',
      kind: 'minecraft_item',
      basePrice: 100,
      minecraftItem: 'minecraft:diamond',
      minecraftCommand: 'give {player} diamond {amount}',
    });
    expect(bad.status).toBe(400);
    const item = await api.call(admin, 'POST', '/market/catalog', {
      name: 'Diamond',
      kind: 'minecraft_item',
      basePrice: 100,
      minecraftItem: 'minecraft:diamond',
      minecraftCommand: 'give {player} minecraft:diamond {qty}',
    });
    expect(item.status).toBe(200);
    expect(item.body).toMatchObject({
      kind: 'minecraft_item',
      minecraftCommand: 'give {player} minecraft:diamond {qty}',
    });

    const listing = await api.call(admin, 'POST', '/market/listings', {
      catalogItemId: item.body.id,
      unitPrice: 100,
      quantity: 5,
    });
    expect(listing.body).toMatchObject({ official: true, sellerId: null, quantityLeft: 5, state: 'active' });
    const repriced = await api.call(admin, 'PATCH', `/market/listings/${listing.body.id}`, {
      unitPrice: 120,
      quantityTotal: 8,
    });
    expect(repriced.body).toMatchObject({ unitPrice: 120, quantityTotal: 8, quantityLeft: 8 });
    expect((await api.call(admin, 'POST', `/market/listings/${listing.body.id}/pause`)).body.state).toBe(
      'paused',
    );
    expect((await api.call(admin, 'POST', `/market/listings/${listing.body.id}/resume`)).body.state).toBe(
      'active',
    );

    const purchase = await new Market(api.t.db, marketSettings).buy(player(alice), {
      key: 'api-test-buy',
      listingId: listing.body.id,
      quantity: 2,
      expectedUnitPrice: 120,
    });
    const orders = await api.call(viewer, 'GET', `/market/orders?buyer=${alice}&state=pending`);
    expect(orders.body.items.map((o: { id: string }) => o.id)).toEqual([purchase.order.id]);

    const headers = idem();
    const refund = await api.call(
      admin,
      'POST',
      `/market/orders/${purchase.order.id}/refund`,
      { reason: 'out of stock' },
      headers,
    );
    expect(refund.body).toMatchObject({
      changed: true,
      order: { state: 'refunded', refundReason: 'admin_refund' },
    });
    const retry = await api.call(
      admin,
      'POST',
      `/market/orders/${purchase.order.id}/refund`,
      { reason: 'out of stock' },
      headers,
    );
    expect(retry.body).toEqual(refund.body);
    expect(await balanceOf(api.t.db, alice)).toBe(1050);

    const ended = await api.call(admin, 'POST', `/market/listings/${listing.body.id}/end`, {
      reason: 'season over',
    });
    expect(ended.body.state).toBe('removed');
    const listed = await api.call(viewer, 'GET', '/market/listings?state=removed&official=true');
    expect(listed.body.items.map((l: { id: string }) => l.id)).toEqual([listing.body.id]);
    const prices = await api.call(viewer, 'GET', `/market/catalog/${item.body.id}/prices`);
    expect(prices.body).toMatchObject({ basePrice: 100, referencePrice: null, sales: [] });
    expect((await checkLedger(api.t.db)).ok).toBe(true);
    expect(await balanceOf(api.t.db, SYSTEM_ACCOUNTS.escrow)).toBe(0);
  });
});

describe('audit', () => {
  it('filters the log and exports it as CSV', async () => {
    const res = await api.call(moderator, 'GET', `/audit?action=user.freeze&targetId=${bob}`);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({
      action: 'user.freeze',
      actorId: moderator.userId,
      reason: 'chargeback',
    });
    expect((await api.call(viewer, 'GET', '/audit')).status).toBe(403);

    const csv = await api.call(moderator, 'GET', '/audit/export.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,at,actor_id/);
    expect(lines).toHaveLength((await audits()) + 1);
    expect(csv.body).toContain('user.freeze');
  });
});

describe('guild role map', () => {
  it('lets the owner replace it, audited; others may read it', async () => {
    const map = { admin: ['680000000000000010'], moderator: ['680000000000000011', '680000000000000011'] };
    expect((await api.call(admin, 'PUT', '/guild/role-map', { roleMap: map })).status).toBe(403);
    const bad = await api.call(owner, 'PUT', '/guild/role-map', { roleMap: { admin: ['not-a-role'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_role_map');
    const res = await api.call(owner, 'PUT', '/guild/role-map', { roleMap: map });
    expect(res.body).toEqual({
      guildId: GUILD,
      changed: true,
      roleMap: { admin: ['680000000000000010'], moderator: ['680000000000000011'] },
    });
    const again = await api.call(owner, 'PUT', '/guild/role-map', { roleMap: map });
    expect(again.body.changed).toBe(false);
    expect((await api.call(viewer, 'GET', '/guild/role-map')).body.roleMap).toEqual(res.body.roleMap);
    const audit = await api.call(owner, 'GET', '/audit?action=roles.change');
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      before: {},
      after: res.body.roleMap,
      target: { type: 'guild', id: GUILD },
    });
  });
});

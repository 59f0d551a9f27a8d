import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adjustBalance,
  freezeUser,
  noteTransfer,
  refundTransfer,
  unfreezeUser,
  type AdminDeps,
} from '../../economy/admin.ts';
import { recentAuditForUser } from '../../economy/audit.ts';
import type { Actor, Role } from '../../economy/rbac.ts';
import { Ledger, SYSTEM_ACCOUNTS } from '../../economy/ledger.ts';
import { checkLedger } from '../../economy/ledger-check.ts';
import {
  balanceOf,
  createTestDatabase,
  fundWallets,
  insertUsers,
  transferCount as countTransfers,
  type TestDatabase,
} from '../helpers/db.ts';

let t: TestDatabase;
let deps: AdminDeps;
let ledger: Ledger;
let admin: string;
let mod: string;
let alice: string;
let bob: string;
let carol: string;
const now = () => new Date();
let requests = 0;
const as = (
  userId: string,
  role: Role | null,
  requestId = `request-${++requests}`,
): Extract<Actor, { kind: 'member' }> => ({
  kind: 'member',
  userId,
  role,
  source: 'discord',
  requestId,
});

const balance = (id: string) => balanceOf(t.db, id);
const auditRows = (action: string, targetId?: string) =>
  t.db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', action)
    .$if(targetId !== undefined, (q) => q.where('target_id', '=', targetId!))
    .orderBy('id')
    .execute();
const transferCount = () => countTransfers(t.db);

beforeAll(async () => {
  t = await createTestDatabase();
  deps = { db: t.db, now };
  ledger = new Ledger(t.db, { now });
  [admin, mod, alice, bob, carol] = (await insertUsers(t.db, 5)).map((u) => u.id) as [
    string,
    string,
    string,
    string,
    string,
  ];
  await fundWallets(ledger, [alice, bob, carol], 1000);
});

afterAll(async () => {
  expect((await checkLedger(t.db)).ok).toBe(true);
  await t.drop();
});

describe('adjustBalance', () => {
  it('mints through the ledger with one audit row, and a retry of the same key changes nothing', async () => {
    const first = await adjustBalance(deps, as(admin, 'admin', 'i-1'), {
      userId: alice,
      amount: 250,
      reason: 'event prize',
      key: 'i-1',
    });
    expect(first).toMatchObject({ replayed: false, balanceBefore: 1000, balanceAfter: 1250 });
    const again = await adjustBalance(deps, as(admin, 'admin', 'i-1'), {
      userId: alice,
      amount: 250,
      reason: 'event prize',
      key: 'i-1',
    });
    expect(again).toMatchObject({ replayed: true, transferId: first.transferId });
    expect(await balance(alice)).toBe(1250);
    const tr = await t.db
      .selectFrom('transfers')
      .selectAll()
      .where('id', '=', first.transferId)
      .executeTakeFirstOrThrow();
    expect(tr).toMatchObject({
      debit_account_id: SYSTEM_ACCOUNTS.mint,
      credit_account_id: alice,
      reason: 'admin_adjust',
    });
    const rows = await auditRows('balance.adjust', alice);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: admin,
      actor_role: 'admin',
      target_type: 'user',
      reason: 'event prize',
      source: 'discord',
      request_id: 'i-1',
      before: { balance: 1000 },
      after: { balance: 1250, amount: 250 },
    });
  });

  it('burns to the burn account', async () => {
    const r = await adjustBalance(deps, as(admin, 'owner'), {
      userId: alice,
      amount: -50,
      reason: 'spam',
      key: 'i-2',
    });
    expect(r).toMatchObject({ balanceBefore: 1250, balanceAfter: 1200 });
    const tr = await t.db
      .selectFrom('transfers')
      .selectAll()
      .where('id', '=', r.transferId)
      .executeTakeFirstOrThrow();
    expect(tr).toMatchObject({ debit_account_id: alice, credit_account_id: SYSTEM_ACCOUNTS.burn });
  });

  it('refuses bad input, more than the wallet holds, and roles without the permission, changing nothing', async () => {
    const before = await transferCount();
    const audits = (await auditRows('balance.adjust')).length;
    const attempt = (actor: ReturnType<typeof as>, amount: number, reason = 'x') =>
      adjustBalance(deps, actor, { userId: alice, amount, reason, key: `bad:${amount}:${actor.role}` });
    await expect(attempt(as(admin, 'admin'), -5000)).rejects.toMatchObject({ code: 'insufficient_funds' });
    await expect(attempt(as(admin, 'admin'), 0)).rejects.toMatchObject({ code: 'invalid_amount' });
    await expect(attempt(as(admin, 'admin'), 1.5)).rejects.toMatchObject({ code: 'invalid_amount' });
    await expect(attempt(as(admin, 'admin'), 10, '  ')).rejects.toMatchObject({ code: 'reason_required' });
    await expect(attempt(as(mod, 'moderator'), 10)).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    await expect(attempt(as(mod, 'viewer'), 10)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(attempt(as(mod, null), 10)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      adjustBalance(deps, as(admin, 'admin'), { userId: '999999', amount: 5, reason: 'x', key: 'nouser' }),
    ).rejects.toMatchObject({ code: 'user_not_found' });
    expect(await transferCount()).toBe(before);
    expect(await auditRows('balance.adjust')).toHaveLength(audits);
    expect(await balance(alice)).toBe(1200);
  });
});

describe('freeze and unfreeze', () => {
  it('a frozen user can neither spend nor receive; unfreeze restores both; both are audited once', async () => {
    const frozen = await freezeUser(deps, as(mod, 'moderator', 'i-f1'), {
      userId: bob,
      reason: 'chargeback fraud',
    });
    expect(frozen).toMatchObject({ changed: true, frozen: true });
    const user = await t.db.selectFrom('users').selectAll().where('id', '=', bob).executeTakeFirstOrThrow();
    expect(user).toMatchObject({ frozen: true, frozen_reason: 'chargeback fraud', frozen_by: mod });

    const spend = await ledger.submit({
      op: 'transfer',
      key: 'f:spend',
      debit: bob,
      credit: carol,
      amount: 10,
      reason: 'pay',
    });
    const receive = await ledger.submit({
      op: 'transfer',
      key: 'f:recv',
      debit: carol,
      credit: bob,
      amount: 10,
      reason: 'pay',
    });
    const hold = await ledger.submit({
      op: 'hold',
      key: 'f:hold',
      debit: bob,
      amount: 10,
      reason: 'buy',
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect([spend, receive, hold]).toEqual([
      expect.objectContaining({ ok: false, code: 'frozen' }),
      expect.objectContaining({ ok: false, code: 'frozen' }),
      expect.objectContaining({ ok: false, code: 'frozen' }),
    ]);
    // Admins can still move a frozen user's coins.
    await adjustBalance(deps, as(admin, 'admin'), {
      userId: bob,
      amount: -100,
      reason: 'clawback',
      key: 'f:claw',
    });
    expect(await balance(bob)).toBe(900);

    const twice = await freezeUser(deps, as(admin, 'admin', 'i-f2'), { userId: bob, reason: 'again' });
    expect(twice).toMatchObject({ changed: false, audit: null });

    const thawed = await unfreezeUser(deps, as(admin, 'admin', 'i-u1'), { userId: bob });
    expect(thawed).toMatchObject({ changed: true, frozen: false });
    expect(
      await ledger.submit({
        op: 'transfer',
        key: 'u:spend',
        debit: bob,
        credit: carol,
        amount: 10,
        reason: 'pay',
      }),
    ).toMatchObject({ ok: true });
    expect(
      await ledger.submit({
        op: 'transfer',
        key: 'u:recv',
        debit: carol,
        credit: bob,
        amount: 5,
        reason: 'pay',
      }),
    ).toMatchObject({ ok: true });
    expect(await balance(bob)).toBe(895);
    expect(await unfreezeUser(deps, as(admin, 'admin'), { userId: bob })).toMatchObject({ changed: false });

    const freezes = await auditRows('user.freeze', bob);
    const unfreezes = await auditRows('user.unfreeze', bob);
    expect(freezes).toHaveLength(1);
    expect(freezes[0]).toMatchObject({
      actor_id: mod,
      actor_role: 'moderator',
      reason: 'chargeback fraud',
      request_id: 'i-f1',
      before: { frozen: false },
      after: { frozen: true },
    });
    expect(unfreezes).toHaveLength(1);
    expect(unfreezes[0]).toMatchObject({
      actor_id: admin,
      request_id: 'i-u1',
      before: { frozen: true, reason: 'chargeback fraud' },
      after: { frozen: false },
    });
  });

  it('needs a reason and the permission, and nobody freezes themselves', async () => {
    await expect(freezeUser(deps, as(admin, 'admin'), { userId: carol, reason: '' })).rejects.toMatchObject({
      code: 'reason_required',
    });
    await expect(freezeUser(deps, as(mod, 'viewer'), { userId: carol, reason: 'x' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(freezeUser(deps, as(admin, 'admin'), { userId: admin, reason: 'x' })).rejects.toMatchObject({
      code: 'freeze_self',
    });
    const c = await t.db
      .selectFrom('users')
      .select('frozen')
      .where('id', '=', carol)
      .executeTakeFirstOrThrow();
    expect(c.frozen).toBe(false);
  });
});

describe('refundTransfer', () => {
  it('a double click refunds a transfer once, with one audit row', async () => {
    const pay = await ledger.transfer({
      key: 'r:pay',
      debit: alice,
      credit: carol,
      amount: 70,
      reason: 'pay',
    });
    const [a, b] = await Promise.all([
      refundTransfer(deps, as(mod, 'moderator', 'click-1'), { transferId: pay.transferId, reason: 'scam' }),
      refundTransfer(deps, as(mod, 'moderator', 'click-2'), { transferId: pay.transferId, reason: 'scam' }),
    ]);
    expect([a.changed, b.changed].sort()).toEqual([false, true]);
    const third = await refundTransfer(deps, as(admin, 'admin'), { transferId: pay.transferId });
    expect(third).toMatchObject({ changed: false, outcome: 'already_refunded' });
    const reversals = await t.db
      .selectFrom('transfers')
      .selectAll()
      .where('reverses_id', '=', pay.transferId)
      .execute();
    expect(reversals).toHaveLength(1);
    expect(reversals[0]).toMatchObject({
      debit_account_id: carol,
      credit_account_id: alice,
      amount: '70',
      reason: 'refund',
    });
    expect(await auditRows('tx.refund', pay.transferId)).toHaveLength(1);
  });

  it('a double click voids a pending hold once', async () => {
    const hold = await ledger.hold({
      key: 'r:hold',
      debit: alice,
      amount: 40,
      reason: 'market_purchase',
      expiresAt: new Date(Date.now() + 600_000),
    });
    const before = await balance(alice);
    const results = await Promise.all(
      [1, 2, 3].map((i) =>
        refundTransfer(deps, as(admin, 'admin', `hold-click-${i}`), { transferId: hold.transferId }),
      ),
    );
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(results.find((r) => r.changed)).toMatchObject({ outcome: 'voided', amount: 40 });
    expect(await balance(alice)).toBe(before + 40);
    const h = await t.db
      .selectFrom('transfers')
      .select('state')
      .where('id', '=', hold.transferId)
      .executeTakeFirstOrThrow();
    expect(h.state).toBe('voided');
    expect(await auditRows('tx.refund', hold.transferId)).toHaveLength(1);
  });

  it('refunds a completed escrow purchase in full, payout and fee, back to the buyer', async () => {
    const hold = await ledger.hold({
      key: 'r:h2',
      debit: alice,
      amount: 100,
      reason: 'market_purchase',
      expiresAt: new Date(Date.now() + 600_000),
    });
    await ledger.post({
      key: 'r:p2',
      pendingId: hold.transferId,
      credit: carol,
      fee: 5,
      reason: 'market_sale',
    });
    const aliceBefore = await balance(alice);
    const carolBefore = await balance(carol);
    const r = await refundTransfer(deps, as(admin, 'admin'), {
      transferId: hold.transferId,
      reason: 'never delivered',
    });
    expect(r).toMatchObject({ changed: true, outcome: 'reversed', amount: 100 });
    expect(r.transferIds).toHaveLength(2);
    expect(await balance(alice)).toBe(aliceBefore + 100);
    expect(await balance(carol)).toBe(carolBefore - 95);
    expect(await refundTransfer(deps, as(admin, 'admin'), { transferId: hold.transferId })).toMatchObject({
      changed: false,
    });
  });

  it('refuses refunding a refund, unknown ids and roles without the permission', async () => {
    const pay = await ledger.transfer({
      key: 'r:pay3',
      debit: alice,
      credit: carol,
      amount: 3,
      reason: 'pay',
    });
    const r = await refundTransfer(deps, as(admin, 'admin'), { transferId: pay.transferId });
    await expect(
      refundTransfer(deps, as(admin, 'admin'), { transferId: r.transferIds[0]! }),
    ).rejects.toMatchObject({
      code: 'not_refundable',
    });
    await expect(refundTransfer(deps, as(admin, 'admin'), { transferId: '99999999' })).rejects.toMatchObject({
      code: 'transfer_not_found',
    });
    await expect(refundTransfer(deps, as(admin, 'admin'), { transferId: 'abc' })).rejects.toMatchObject({
      code: 'transfer_not_found',
    });
    const pay2 = await ledger.transfer({
      key: 'r:pay4',
      debit: alice,
      credit: carol,
      amount: 3,
      reason: 'pay',
    });
    await expect(
      refundTransfer(deps, as(mod, 'viewer'), { transferId: pay2.transferId }),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('tells the admin when the recipient has spent the coins, and changes nothing', async () => {
    const gift = await ledger.transfer({
      key: 'r:gift',
      debit: carol,
      credit: mod,
      amount: 30,
      reason: 'pay',
    });
    await ledger.transfer({ key: 'r:spent', debit: mod, credit: carol, amount: 30, reason: 'pay' });
    await expect(
      refundTransfer(deps, as(admin, 'admin'), { transferId: gift.transferId }),
    ).rejects.toMatchObject({
      code: 'refund_insufficient_funds',
    });
    expect(await auditRows('tx.refund', gift.transferId)).toHaveLength(0);
  });
});

describe('audit trail', () => {
  it('keeps notes, and lists a user’s entries newest first', async () => {
    const pay = await ledger.transfer({
      key: 'n:pay',
      debit: alice,
      credit: carol,
      amount: 1,
      reason: 'pay',
    });
    const note = await noteTransfer(deps, as(mod, 'moderator', 'modal-1'), {
      transferId: pay.transferId,
      note: 'checked',
    });
    expect(note).toMatchObject({ action: 'tx.note', after: { note: 'checked' } });
    await expect(
      noteTransfer(deps, as(mod, 'moderator', 'modal-1'), { transferId: pay.transferId, note: 'checked' }),
    ).rejects.toMatchObject({ code: 'note_duplicate' });
    const entries = await recentAuditForUser(t.db, bob, 10);
    expect(entries.map((e) => e.action)).toEqual(['user.unfreeze', 'balance.adjust', 'user.freeze']);
    const byMod = await recentAuditForUser(t.db, mod, 10);
    expect(byMod[0]).toMatchObject({ action: 'tx.note', actorId: mod });
  });

  it('refuses updates and deletes of audit rows', async () => {
    await expect(sql`update audit_log set reason = 'x'`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(t.db)).rejects.toThrow(/append-only/);
  });
});

describe('refunds that are adjustments in disguise', () => {
  it('a moderator cannot refund a transfer they are a party to; with balance.adjust they can', async () => {
    const [party, payee] = (await insertUsers(t.db, 2, 600_000_000_000_000_000n)).map((u) => u.id) as [
      string,
      string,
    ];
    await fundWallets(ledger, [party], 500);
    const toMod = await ledger.transfer({
      key: 'party-1',
      debit: alice,
      credit: party,
      amount: 20,
      reason: 'pay',
    });
    const fromMod = await ledger.transfer({
      key: 'party-2',
      debit: party,
      credit: payee,
      amount: 30,
      reason: 'pay',
    });
    const before = await transferCount();
    for (const id of [toMod.transferId, fromMod.transferId]) {
      await expect(refundTransfer(deps, as(party, 'moderator'), { transferId: id })).rejects.toMatchObject({
        code: 'refund_own',
        status: 403,
      });
    }
    expect(await transferCount()).toBe(before);
    expect(await auditRows('tx.refund', fromMod.transferId)).toHaveLength(0);
    const byAdmin = await refundTransfer(deps, as(party, 'admin'), { transferId: fromMod.transferId });
    expect(byAdmin).toMatchObject({ changed: true, outcome: 'reversed', amount: 30 });
  });

  it("reversing an admin's mint or burn needs balance.adjust: refused to a moderator, allowed to an owner", async () => {
    const mint = await adjustBalance(deps, as(admin, 'admin'), {
      userId: carol,
      amount: 40,
      reason: 'event prize',
      key: 'mint-reverse',
    });
    const burn = await adjustBalance(deps, as(admin, 'admin'), {
      userId: carol,
      amount: -15,
      reason: 'penalty',
      key: 'burn-reverse',
    });
    const carolBefore = await balance(carol);
    for (const id of [mint.transferId, burn.transferId]) {
      await expect(refundTransfer(deps, as(mod, 'moderator'), { transferId: id })).rejects.toMatchObject({
        code: 'forbidden',
        status: 403,
      });
    }
    expect(await balance(carol)).toBe(carolBefore);
    const owner = await refundTransfer(deps, as(alice, 'owner'), { transferId: mint.transferId });
    expect(owner).toMatchObject({ changed: true, amount: 40 });
    expect(await balance(carol)).toBe(carolBefore - 40);
  });
});

import type { Db, Tx } from '../db/client.ts';
import type { Actor } from './rbac.ts';

export type AuditSource = 'discord' | 'panel' | 'system' | 'cli';

export interface AuditTarget {
  /** What kind of thing was acted on: `user`, `transfer`, `order`, `listing`, `guild`, … */
  type: string;
  id: string;
}

export interface AuditInput {
  /** The user who acted; null for the system (a job, the CLI without a user). */
  actorId: string | null;
  /** The actor's Coinhub role at the time (owner, admin, moderator, viewer), or null. */
  actorRole: string | null;
  /** Dotted verb such as `user.freeze`, `balance.adjust`, `tx.refund`. */
  action: string;
  target: AuditTarget | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
  source: AuditSource;
  /** The Discord interaction id or the panel's request id, to trace the row to its cause. */
  requestId?: string | null;
}

export interface AuditEntry {
  id: string;
  at: Date;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  target: AuditTarget | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  source: AuditSource;
  requestId: string | null;
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** Appends the row for an action `actor` took (the system is recorded without a user or role). */
export function auditAction(
  db: Db | Tx,
  actor: Actor,
  entry: Pick<AuditInput, 'action' | 'target' | 'before' | 'after' | 'reason'>,
): Promise<AuditEntry> {
  return appendAudit(db, {
    ...entry,
    actorId: actor.kind === 'member' ? actor.userId : null,
    actorRole: actor.kind === 'member' ? actor.role : null,
    source: actor.source,
    requestId: actor.requestId,
  });
}

/**
 * Appends one audit row. Pass the transaction that makes the change so that the row and the change commit
 * together. The table is append-only (a trigger refuses updates and deletes).
 */
export async function appendAudit(db: Db | Tx, input: AuditInput): Promise<AuditEntry> {
  const row = await db
    .insertInto('audit_log')
    .values({
      actor_id: input.actorId,
      actor_role: input.actorRole,
      action: input.action,
      target_type: input.target?.type ?? null,
      target_id: input.target?.id ?? null,
      before: json(input.before),
      after: json(input.after),
      reason: input.reason ?? null,
      source: input.source,
      request_id: input.requestId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEntry(row);
}

type Row = {
  id: string;
  /** Typed loosely by the schema (Generated<Timestamp>); pg returns a Date for timestamptz. */
  at: unknown;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  source: AuditSource;
  request_id: string | null;
};

function toEntry(row: Row): AuditEntry {
  return {
    id: row.id,
    at: row.at as Date,
    actorId: row.actor_id,
    actorRole: row.actor_role,
    action: row.action,
    target: row.target_type && row.target_id ? { type: row.target_type, id: row.target_id } : null,
    before: row.before,
    after: row.after,
    reason: row.reason,
    source: row.source,
    requestId: row.request_id,
  };
}

/** The newest audit rows about a user (as the target) or by them (as the actor), newest first. */
export async function recentAuditForUser(db: Db | Tx, userId: string, limit = 10): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb('target_type', '=', 'user'), eb('target_id', '=', userId)]),
        eb('actor_id', '=', userId),
      ]),
    )
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toEntry);
}

/** Audit rows about any of the given targets, oldest first: what the feed shows under a transaction. */
export async function auditForTargets(db: Db | Tx, targets: AuditTarget[]): Promise<AuditEntry[]> {
  if (targets.length === 0) return [];
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where((eb) =>
      eb.or(targets.map((t) => eb.and([eb('target_type', '=', t.type), eb('target_id', '=', t.id)]))),
    )
    .orderBy('id', 'asc')
    .execute();
  return rows.map(toEntry);
}

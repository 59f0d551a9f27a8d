import { isRetryableError, retrying, type Db, type Tx } from '../db/client.ts';
import { onceThisTurn } from '../db/coalesce.ts';
import { AppError } from './errors.ts';

/** One request's outcome inside a batch: a value, or a refusal that wrote nothing for that request. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: AppError };

/**
 * Thrown from inside a batch when a request's changes cannot be kept apart from the others' (it would
 * leave half of its work written). The batch rolls back and each request runs alone, where the error
 * reaches its caller.
 */
export class RequestFailed extends Error {
  constructor(readonly error: AppError) {
    super(error.message);
  }
}

/** A conflict with a concurrent transaction that a rerun resolves (e.g. stock read without a lock changed). */
export class Conflict extends Error {
  readonly code = '40001';
}

interface Queued<Req, Res> {
  req: Req;
  resolve: (r: Res) => void;
  reject: (e: unknown) => void;
}

/**
 * Forms one batch: returns a fresh test that says, request by request in queue order, whether the request may
 * join the batch being formed (it has seen the ones admitted before). The rest wait for a later batch.
 */
export type BatchPlan<Req> = () => (req: Req) => boolean;

/** A plan under which requests with the same key never share a batch. */
export function distinctBy<Req>(key: (req: Req) => string): BatchPlan<Req> {
  return () => {
    const seen = new Set<string>();
    return (req) => {
      const k = key(req);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    };
  };
}

export interface BatcherOptions {
  /** Batches in flight at once; further requests wait and join the next batch. */
  maxInFlight?: number;
  maxBatch?: number;
  maxAttempts?: number;
  /** Errors after which a batch runs again (default: serialization failures and deadlocks). */
  isRetryable?: (err: unknown) => boolean;
}

/**
 * Groups concurrent requests into one database transaction each, so a burst shares one commit instead of
 * paying for one per request. The batch plan keeps conflicting requests (two claims of one user) apart.
 * Every request still commits atomically: the batch function refuses a request by returning an error outcome,
 * without writing anything for it.
 */
export class TxBatcher<Req, Res> {
  private queue: Queued<Req, Res>[] = [];
  private inFlight = 0;
  /** Doubling the transactions when a turn's requests split is measurable (scripts/bench-market.ts). */
  private readonly schedule = onceThisTurn(() => this.pump());
  private readonly maxInFlight: number;
  private readonly maxBatch: number;
  private readonly maxAttempts: number;
  private readonly isRetryable: (err: unknown) => boolean;

  constructor(
    private readonly db: Db,
    /** `attempt` counts from 1; a rerun after a conflict may choose a more careful plan. */
    private readonly run: (trx: Tx, reqs: Req[], attempt: number) => Promise<Outcome<Res>[]>,
    private readonly plan: BatchPlan<Req>,
    options: BatcherOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 3;
    this.maxBatch = options.maxBatch ?? 64;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.isRetryable = options.isRetryable ?? isRetryableError;
  }

  /** Resolves with the request's value; rejects with its AppError. */
  submit(req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.schedule();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const admit = this.plan();
      const batch: Queued<Req, Res>[] = [];
      const rest: Queued<Req, Res>[] = [];
      for (const q of this.queue) {
        if (batch.length < this.maxBatch && admit(q.req)) batch.push(q);
        else rest.push(q);
      }
      this.queue = rest;
      this.inFlight++;
      void this.runBatch(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async runBatch(batch: Queued<Req, Res>[]): Promise<void> {
    try {
      const outcomes = await retrying(
        (attempt) =>
          this.db.transaction().execute((trx) =>
            this.run(
              trx,
              batch.map((q) => q.req),
              attempt,
            ),
          ),
        { attempts: this.maxAttempts, isRetryable: this.isRetryable },
      );
      batch.forEach((q, i) => {
        const o = outcomes[i]!;
        if (o.ok) q.resolve(o.value);
        else q.reject(o.error);
      });
    } catch (err) {
      if (batch.length > 1) {
        await Promise.all(batch.map((q) => this.runBatch([q])));
        return;
      }
      const q = batch[0]!;
      if (err instanceof RequestFailed) q.reject(err.error);
      else if (this.isRetryable(err))
        q.reject(new AppError('busy', 'Coinhub is busy right now; please try again.', 503));
      else q.reject(err);
    }
  }
}

import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/** A job as producers see it: queue, name, payload schema and retry policy. Handlers live in jobs/handlers. */
export interface JobDefinition<S extends z.ZodType> {
  queue: QueueName;
  name: string;
  schema: S;
  options: JobsOptions;
}

export const QUEUES = ['ledger', 'discord'] as const;
export type QueueName = (typeof QUEUES)[number];

const defaults: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

const define = <S extends z.ZodType>(queue: QueueName, name: string, schema: S, options: JobsOptions = {}) =>
  ({ queue, name, schema, options: { ...defaults, ...options } }) satisfies JobDefinition<S>;

/** Periodic reconciliation: runs the ledger invariant check and records the outcome. */
export const ledgerCheckJob = define('ledger', 'ledger.check', z.object({}).strict(), { attempts: 1 });

export type PayloadOf<D> = D extends JobDefinition<infer S> ? z.infer<S> : never;

import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { throttledWarn } from '../config/logger.ts';
import type { z } from 'zod';
import { AppError } from '../economy/errors.ts';
import { QUEUES, type JobDefinition, type PayloadOf, type QueueName } from './definitions.ts';

/** Producers' side of BullMQ: one Queue per name over a fail-fast connection. */
export class Queues {
  private readonly queues: Map<QueueName, Queue>;

  constructor(connection: Redis, prefix: string, log: Logger) {
    // While Redis is down every queue reports every reconnect attempt; one line per half minute is enough.
    const warn = throttledWarn(log, 30_000);
    this.queues = new Map(
      QUEUES.map((name) => {
        const queue = new Queue(name, { connection, prefix });
        queue.on('error', (err) => warn('queue', { err: err.message }, 'queue error'));
        return [name, queue];
      }),
    );
  }

  get(name: QueueName): Queue {
    return this.queues.get(name)!;
  }

  /** Validates the payload and enqueues; a Redis outage becomes a 503 AppError ("try again"). */
  async enqueue<D extends JobDefinition<z.ZodType>>(
    def: D,
    payload: PayloadOf<D>,
    options: { jobId?: string; delay?: number } = {},
  ): Promise<void> {
    const data = def.schema.parse(payload);
    try {
      await this.get(def.queue).add(def.name, data, { ...def.options, ...options });
    } catch {
      throw new AppError(
        'queue_unavailable',
        'Coinhub is busy right now; please try again in a moment.',
        503,
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

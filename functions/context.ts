import type { HttpBindings } from '@hono/node-server';
import type { APIInteraction } from 'discord-api-types/v10';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/env.ts';
import type { Db } from '../db/client.ts';
import type { PubSub } from '../db/pubsub.ts';
import type { Queues } from '../jobs/queues.ts';
import type { ApiActor } from './api/actor.ts';

/** Everything a request handler may use; built once per process by server.ts. */
export interface AppDeps {
  cfg: Config;
  db: Db;
  redis: Redis;
  queues: Queues;
  /** The process's Redis subscriber (settings invalidation, the transaction stream). */
  pubsub: PubSub;
  log: Logger;
  now: () => Date;
}

/** The one Hono environment of the app. */
export interface AppEnv {
  /** Node's request and response under @hono/node-server; absent when the app is called in-process (tests). */
  Bindings: Partial<HttpBindings>;
  Variables: {
    requestId: string;
    log: Logger;
    /** A verified Discord interaction (set by the /interactions signature check). */
    interaction: APIInteraction;
    /** Who calls /api (set by the panel's authentication: a session or an API token). */
    actor: ApiActor;
    /** Whether the caller's session (or token) is still valid; long-lived responses (the SSE stream) poll it. */
    sessionAlive: (() => Promise<boolean>) | undefined;
  };
}

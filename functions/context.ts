import type { HttpBindings } from '@hono/node-server';
import type { APIInteraction } from 'discord-api-types/v10';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/env.ts';
import type { Db } from '../db/client.ts';
import type { PubSub } from '../db/pubsub.ts';
import type { MemberActor } from '../economy/rbac.ts';
import type { Queues } from '../jobs/queues.ts';

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
  /** What the process still does before it is ready (migrations, the worker's start); `/readyz` names it. */
  startup?: { pending(): string[] };
}

/** How a /api request authenticated: the panel's session cookie, or an API token with its scope. */
export type PanelCredential =
  | { kind: 'session'; sessionId: string; csrfToken: string }
  | { kind: 'token'; tokenId: string; scope: 'read' | 'write' };

/** The one Hono environment of the app. */
export interface AppEnv {
  /** Node's request and response under @hono/node-server; absent when the app is called in-process (tests). */
  Bindings: Partial<HttpBindings>;
  Variables: {
    requestId: string;
    log: Logger;
    /** A verified Discord interaction (set by the /interactions signature check). */
    interaction: APIInteraction;
    /** The signed-in member of a /api request (set by `panelAuth` in functions/auth/guard.ts). */
    actor: MemberActor;
    /** How that /api request authenticated. */
    auth: PanelCredential;
    /** Whether the caller's session (or token) is still valid; long-lived responses (the SSE stream) poll it. */
    sessionAlive: (() => Promise<boolean>) | undefined;
  };
}

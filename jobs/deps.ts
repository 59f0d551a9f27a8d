import type { REST } from '@discordjs/rest';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/env.ts';
import type { Db } from '../db/client.ts';
import type { MinecraftServerApi } from '../minecraft/servertap.ts';
import type { Queues } from './queues.ts';

/** What every job handler may use; built once per worker process by functions/server.ts. */
export interface WorkerDeps {
  cfg: Config;
  db: Db;
  /** The process clock (config/clock.ts). */
  now: () => Date;
  queues: Queues;
  log: Logger;
  /** A connection the worker may block on (maxRetriesPerRequest: null). */
  blockingRedis: Redis;
  /** A fail-fast connection for plain commands (never blocked by BullMQ). */
  redis: Redis;
  /** The one Discord REST client (discord/rest.ts). */
  rest: REST;
  /** The Minecraft server's API (minecraft/servertap.ts); absent when MINECRAFT_API_URL is not set. */
  minecraft?: MinecraftServerApi;
}

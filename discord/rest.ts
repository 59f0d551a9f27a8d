import { REST } from '@discordjs/rest';
import type { Config } from '../config/env.ts';

/**
 * The one outbound Discord client. Its base URL is DISCORD_API_BASE so tests run against a local fake, and its
 * own rate limiter is the only one: nothing beside it retries 429s. Without DISCORD_TOKEN it can still edit
 * interaction responses (webhook routes authenticate by their token).
 */
export function createDiscordRest(cfg: Pick<Config, 'DISCORD_API_BASE' | 'DISCORD_TOKEN'>): REST {
  const rest = new REST({ version: '10', api: cfg.DISCORD_API_BASE });
  if (cfg.DISCORD_TOKEN) rest.setToken(cfg.DISCORD_TOKEN);
  return rest;
}

export type { REST };

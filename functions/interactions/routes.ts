import { Hono } from 'hono';
import { limitBody } from '../body-limit.ts';
import type { AppDeps, AppEnv } from '../context.ts';
import { registry } from './registry.ts';
import { createInteractionRouter } from './router.ts';
import { verifyDiscordInteraction } from './verify.ts';

/** Discord never sends more than this; larger bodies are refused before their signature is checked. */
export const MAX_INTERACTION_BYTES = 64 * 1024;

/** `POST /interactions`: Discord's signed webhook. */
export function interactionRoutes(deps: AppDeps) {
  const route = createInteractionRouter(deps, registry);
  return new Hono<AppEnv>().post(
    '/interactions',
    limitBody(MAX_INTERACTION_BYTES),
    verifyDiscordInteraction({ publicKey: deps.cfg.DISCORD_PUBLIC_KEY }),
    async (c) =>
      c.json(await route(c.get('interaction'), { log: c.get('log'), requestId: c.get('requestId') })),
  );
}

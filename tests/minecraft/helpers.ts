import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { signWebhook } from '../../minecraft/signing.ts';
import type { InteractionServer } from '../helpers/interaction-server.ts';
import { slashCommand, type Actor } from '../../playground/interactions.ts';
import type { marketClient } from '../market/discord-client.ts';

export const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
export const SERVER_KEY = 'servertap-test-key';

let n = 0;
/** A fresh webhook id, as the plugin would make one per event. */
export const eventId = () => `msg_${Date.now().toString(36)}_${++n}`;

export interface Sent {
  status: number;
  body: { ok?: true; message?: string; error?: { code: string; message: string } };
}

/** The plugin's side: signs `{type, server, data}` with the secret and POSTs it. */
export function pluginClient(rigOf: () => InteractionServer) {
  async function post(body: string, headers: Record<string, string>): Promise<Sent> {
    const res = await fetch(`${rigOf().server.url}/webhooks/minecraft`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as Sent['body'] };
  }

  async function event(
    type: string,
    data: Record<string, unknown>,
    options: { id?: string; at?: Date; secret?: string } = {},
  ): Promise<Sent> {
    const body = JSON.stringify({ type, server: 'survival', data });
    return post(
      body,
      signWebhook(options.secret ?? WEBHOOK_SECRET, options.id ?? eventId(), body, options.at),
    );
  }

  return { post, event };
}

/** A Minecraft player: a UUID and a name. */
export const player = (name: string) => ({ uuid: randomUUID(), name });

/** Links `actor` to `p` the way a player does: /link in Discord, then the code typed in game. */
export async function linkThroughDiscord(
  client: ReturnType<typeof marketClient>,
  plugin: ReturnType<typeof pluginClient>,
  actor: Actor,
  p: { uuid: string; name: string },
): Promise<Sent> {
  const answer = await client.send(slashCommand('link', actor), 4);
  const code = /\/coinhub link ([A-Z2-9]{8})/.exec(answer.content ?? '')?.[1];
  expect(code).toBeDefined();
  return plugin.event('account.link', { code, ...p });
}

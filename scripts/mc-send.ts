/**
 * npm run mc:send -- <type> [--field value ...] [--id WEBHOOK_ID] [--server NAME] [--url URL]
 *
 * Signs an event as the Minecraft server's plugin would (Standard Webhooks, REDEMPTION_WEBHOOK_SECRET from the
 * environment), POSTs it to the running server and prints the answer. `amount` and `increment` are sent as
 * numbers. Examples:
 *   npm run mc:send -- player.join --uuid 069a79f4-44e9-4726-a5be-fca90e38aaf5 --name Notch
 *   npm run mc:send -- account.link --code ABCD2345 --uuid 069a79f4-44e9-4726-a5be-fca90e38aaf5 --name Notch
 *   npm run mc:send -- reward.grant --uuid 069a79f4-44e9-4726-a5be-fca90e38aaf5 --amount 25 --source playtime
 */
import { randomUUID } from 'node:crypto';
import { signWebhook } from '../minecraft/signing.ts';

const NUMERIC = new Set(['amount', 'increment']);

function parseArgs(argv: string[]) {
  const [type, ...rest] = argv;
  const data: Record<string, string | number> = {};
  const flags = { id: `msg_${randomUUID()}`, server: 'local', url: '' };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = rest[i + 1];
    if (!arg.startsWith('--') || value === undefined) throw new Error(`expected --name value, got "${arg}"`);
    i++;
    const name = arg.slice(2);
    if (name === 'id' || name === 'server' || name === 'url') flags[name] = value;
    else data[name] = NUMERIC.has(name) && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  if (!type) throw new Error('name the event type, e.g. player.join');
  return { type, data, ...flags };
}

async function main(): Promise<void> {
  const secret = process.env.REDEMPTION_WEBHOOK_SECRET;
  if (!secret) throw new Error('set REDEMPTION_WEBHOOK_SECRET to the secret the server uses');
  const { type, data, id, server, url } = parseArgs(process.argv.slice(2));
  const target =
    url || `${(process.env.API_BASE_URL ?? 'http://localhost:8787').replace(/\/+$/, '')}/webhooks/minecraft`;
  const body = JSON.stringify({ type, server, data });
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signWebhook(secret, id, body) },
    body,
  });
  process.stdout.write(`HTTP ${res.status}\n${await res.text()}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`mc:send: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordSigner } from '../../playground/signer.ts';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';
import { buttonClick, modalSubmit, ping, slashCommand } from '../../playground/interactions.ts';

let rig: InteractionServer;
beforeAll(async () => {
  rig = await startInteractionServer();
});
afterAll(async () => {
  await rig?.stop();
});

const alice = { id: '200000000000000001', username: 'alice' };

describe('POST /interactions: signature and envelope', () => {
  it('answers a signed PING with PONG', async () => {
    const { body } = await rig.send(ping());
    expect(body).toEqual({ type: 1 });
  });

  it('refuses a missing signature with 401', async () => {
    const res = await rig.post(JSON.stringify(ping()), { 'content-type': 'application/json' });
    expect(res.status).toBe(401);
    const res2 = await rig.post(JSON.stringify(ping()), {
      'x-signature-timestamp': String(Math.floor(Date.now() / 1000)),
    });
    expect(res2.status).toBe(401);
  });

  it('refuses a signature by another key with 401', async () => {
    const body = JSON.stringify(ping());
    const res = await rig.post(body, createDiscordSigner().signedHeaders(body));
    expect(res.status).toBe(401);
  });

  it('refuses a malformed signature header with 401', async () => {
    const body = JSON.stringify(ping());
    const headers = { ...rig.signer.signedHeaders(body), 'x-signature-ed25519': 'zz' };
    expect((await rig.post(body, headers)).status).toBe(401);
  });

  it('refuses an altered body with 401', async () => {
    const body = JSON.stringify(slashCommand('coins', alice));
    const headers = rig.signer.signedHeaders(body);
    const altered = body.replace('"coins"', '"daily"');
    expect(altered).not.toBe(body);
    expect((await rig.post(altered, headers)).status).toBe(401);
  });

  it('refuses a timestamp more than 5 minutes off, either way, and accepts one 4 minutes off', async () => {
    const body = JSON.stringify(ping());
    // The server reads its clock after this one, up to seconds later on a loaded machine: a future timestamp needs
    // that much margin beyond the 300 s to stay refused.
    const now = Math.floor(Date.now() / 1000);
    expect((await rig.post(body, rig.signer.signedHeaders(body, now - 301))).status).toBe(401);
    expect((await rig.post(body, rig.signer.signedHeaders(body, now + 330))).status).toBe(401);
    expect((await rig.post(body, rig.signer.signedHeaders(body, now - 240))).status).toBe(200);
  });

  it('refuses a body over 64 KiB with 413 before looking at the signature', async () => {
    const big = JSON.stringify({ ...ping(), padding: 'x'.repeat(64 * 1024) });
    const res = await rig.post(big, { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    const signed = await rig.post(big, rig.signer.signedHeaders(big));
    expect(signed.status).toBe(413);
  });

  it('limits a chunked body (no Content-Length) the same way, and verifies one within the limit', async () => {
    const chunked = (body: string, headers: Record<string, string>) =>
      fetch(`${rig.server.url}/interactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: new Blob([body]).stream(),
        duplex: 'half',
      } as RequestInit);
    const big = JSON.stringify({ ...ping(), padding: 'x'.repeat(64 * 1024) });
    expect((await chunked(big, rig.signer.signedHeaders(big))).status).toBe(413);
    const small = JSON.stringify(ping());
    const res = await chunked(small, rig.signer.signedHeaders(small));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 1 });
    expect((await chunked(small, rig.signer.signedHeaders(`${small} `))).status).toBe(401);
  });

  it('refuses a signed body that is not JSON, or not an interaction, with 400', async () => {
    const notJson = 'hello there';
    expect((await rig.post(notJson, rig.signer.signedHeaders(notJson))).status).toBe(400);
    for (const payload of [
      [1, 2],
      { type: 2 },
      { ...ping(), type: 9 },
      { ...slashCommand('coins', alice), member: undefined },
    ]) {
      const body = JSON.stringify(payload);
      const res = await rig.post(body, rig.signer.signedHeaders(body));
      expect(res.status, body.slice(0, 80)).toBe(400);
    }
  });

  it('answers an unknown command, button or modal with an ephemeral "unknown action" and 200', async () => {
    for (const payload of [
      slashCommand('nope', alice),
      buttonClick('nope:thing', alice),
      buttonClick('hub', alice),
      modalSubmit('nope:modal', alice, { a: 'b' }),
    ]) {
      const { status, body } = await rig.send(payload);
      expect(status).toBe(200);
      expect(body.type).toBe(4);
      expect(body.data).toMatchObject({ flags: 64 });
      expect((body.data as { content: string }).content).toMatch(/unknown action/i);
    }
  });
});

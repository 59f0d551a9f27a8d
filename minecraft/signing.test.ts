import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, signWebhook } from './signing.ts';

// The Standard Webhooks specification's own example: secret, id, timestamp, body and signature.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  at: new Date(1614265330 * 1000),
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signing', () => {
  it('signs the specification example to its published signature', () => {
    expect(signWebhook(SPEC.secret, SPEC.id, SPEC.body, SPEC.at)['webhook-signature']).toBe(SPEC.signature);
  });

  it('verifies a fresh signature, one of several, and refuses altered, stale, future and foreign ones', () => {
    const verify = createWebhookVerifier(SPEC.secret);
    const headers = signWebhook(SPEC.secret, 'msg_1', '{"a":1}');
    expect(verify('{"a":1}', headers)).toBeNull();
    const rotated = `v1,${Buffer.alloc(32).toString('base64')} ${headers['webhook-signature']}`;
    expect(verify('{"a":1}', { ...headers, 'webhook-signature': rotated })).toBeNull();
    expect(verify('{"a":2}', headers)).toMatch(/signature/);
    expect(verify('{"a":1}', { ...headers, 'webhook-id': 'msg_2' })).toMatch(/signature/);
    const old = signWebhook(SPEC.secret, 'msg_1', '{"a":1}', new Date(Date.now() - 6 * 60_000));
    expect(verify('{"a":1}', old)).toMatch(/too old/);
    const future = signWebhook(SPEC.secret, 'msg_1', '{"a":1}', new Date(Date.now() + 6 * 60_000));
    expect(verify('{"a":1}', future)).toMatch(/too new/);
    expect(verify('{"a":1}', signWebhook('whsec_b3RoZXJrZXk=', 'msg_1', '{"a":1}'))).toMatch(/signature/);
    expect(verify('{"a":1}', { 'webhook-id': 'msg_1' })).toMatch(/missing/);
  });

  it('uses a secret without the whsec_ prefix as its raw bytes', () => {
    const raw = 'plain secret ✓';
    const headers = signWebhook(raw, 'msg_1', '{}');
    expect(createWebhookVerifier(raw)('{}', headers)).toBeNull();
    // The same bytes given as a whsec_ (base64) key verify the same signature.
    const asBase64 = `whsec_${Buffer.from(raw, 'utf8').toString('base64')}`;
    expect(createWebhookVerifier(asBase64)('{}', headers)).toBeNull();
    expect(() => createWebhookVerifier('whsec_not base64!')).toThrow(/base64/);
  });
});

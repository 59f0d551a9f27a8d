import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/** Standard Webhooks headers. */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/**
 * The HMAC key of a secret as Standard Webhooks reads it: `whsec_<base64>` is base64 (the specification's
 * format); any other value is used as its own UTF-8 bytes.
 */
export function webhookKey(secret: string): Webhook {
  if (secret.startsWith('whsec_')) {
    if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) throw new Error('a whsec_ secret must be base64');
    return new Webhook(secret);
  }
  if (secret.length === 0) throw new Error('the secret is empty');
  return new Webhook(new Uint8Array(Buffer.from(secret, 'utf8')), { format: 'raw' });
}

/**
 * Verifies a signed request with the `standardwebhooks` package: signature (any of several space-separated
 * `v1,` signatures, for key rotation) over `<id>.<timestamp>.<body>`, and a timestamp within 5 minutes either
 * way. Returns null when it holds, else why not (never the secret).
 */
export function createWebhookVerifier(secret: string) {
  const webhook = webhookKey(secret);
  return function verifyWebhook(body: string, headers: Record<string, string | undefined>): string | null {
    const id = headers[WEBHOOK_HEADERS.id];
    const timestamp = headers[WEBHOOK_HEADERS.timestamp];
    const signature = headers[WEBHOOK_HEADERS.signature];
    if (!id || !timestamp || !signature) return 'missing webhook-id, webhook-timestamp or webhook-signature';
    try {
      webhook.verify(
        body,
        {
          [WEBHOOK_HEADERS.id]: id,
          [WEBHOOK_HEADERS.timestamp]: timestamp,
          [WEBHOOK_HEADERS.signature]: signature,
        },
        { jsonParse: false },
      );
      return null;
    } catch (err) {
      if (err instanceof WebhookVerificationError) return err.message;
      throw err;
    }
  };
}

/** The headers a sender (the plugin, `npm run mc:send`, tests) puts on `body`. */
export function signWebhook(secret: string, id: string, body: string, at = new Date()) {
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: String(Math.floor(at.getTime() / 1000)),
    [WEBHOOK_HEADERS.signature]: webhookKey(secret).sign(id, at, body),
  };
}

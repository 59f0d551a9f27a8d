import { createHash } from 'node:crypto';

/**
 * A deterministic message nonce (Discord allows at most 25 characters) for the `kind` of message (`feed`, `shop`) that `parts` name. Sent with
 * `enforce_nonce: true`, a repeated POST within Discord's few-minute window returns the first message instead
 * of creating a second one: a job retried after Discord answered but before the message id was saved, or two
 * jobs racing, post once.
 */
export const messageNonce = (kind: string, ...parts: string[]): string =>
  createHash('sha256')
    .update(`coinhub-${kind}:${parts.join(':')}`)
    .digest('base64url')
    .slice(0, 25);

import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** Discord signs `timestamp + body` with Ed25519; the raw public key is the last 32 bytes of the SPKI DER. */
export interface DiscordSigner {
  /** The value for DISCORD_PUBLIC_KEY. */
  publicKeyHex: string;
  privateKey: KeyObject;
  /** Headers Discord would send with `body`; `timestamp` defaults to now (seconds). */
  signedHeaders(body: string, timestamp?: number | string): Record<string, string>;
}

export function createDiscordSigner(existing?: {
  privateKey: KeyObject;
  publicKey: KeyObject;
}): DiscordSigner {
  const { privateKey, publicKey } = existing ?? generateKeyPairSync('ed25519');
  const publicKeyHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  return {
    publicKeyHex,
    privateKey,
    signedHeaders(body, timestamp = Math.floor(Date.now() / 1000)) {
      const ts = String(timestamp);
      return {
        'content-type': 'application/json',
        'x-signature-ed25519': sign(null, Buffer.from(ts + body), privateKey).toString('hex'),
        'x-signature-timestamp': ts,
      };
    },
  };
}

import type { Redis } from 'ioredis';

/** Discord accepts edits of an interaction's response for 15 minutes. */
const TOKEN_TTL_S = 15 * 60;

const tokenKey = (prefix: string, interactionId: string) => `${prefix}:itoken:${interactionId}`;

/**
 * Interaction tokens are credentials (they can edit the response), so job payloads carry the interaction id
 * and the token waits in Redis for the job, expiring when Discord would stop accepting it anyway.
 */
export async function storeInteractionToken(
  redis: Redis,
  prefix: string,
  interactionId: string,
  token: string,
): Promise<void> {
  await redis.set(tokenKey(prefix, interactionId), token, 'EX', TOKEN_TTL_S);
}

/** The token of a deferred interaction, or undefined once it expired. */
export async function readInteractionToken(
  redis: Redis,
  prefix: string,
  interactionId: string,
): Promise<string | undefined> {
  return (await redis.get(tokenKey(prefix, interactionId))) ?? undefined;
}

import { sign, verify } from 'hono/jwt';
import { z } from 'zod';
import type { Config } from '../../config/env.ts';
import { transact, type Db } from '../../db/client.ts';

import { auditAction } from '../../economy/audit.ts';
import { AppError } from '../../economy/errors.ts';
import { requirePermission, type MemberActor } from '../../economy/rbac.ts';

export const TOKEN_MAX_DAYS = 90;
const DAY_MS = 24 * 60 * 60_000;

export const tokenScopes = ['read', 'write'] as const;
export type TokenScope = (typeof tokenScopes)[number];

/** `POST /api/tokens`'s body. */
export const createTokenSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    scope: z.enum(tokenScopes),
    /** Days until the token stops working; at most 90. */
    expiresInDays: z.number().int().min(1).max(TOKEN_MAX_DAYS).default(30),
  })
  .strict();

export interface TokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  /** The Coinhub user who created it; the token acts as them, with their current role. */
  userId: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

/** A verified bearer token: which row it is and whose. */
export interface TokenHolder {
  tokenId: string;
  scope: TokenScope;
  userId: string;
  discordId: string;
}

const notConfigured = () =>
  new AppError('tokens_not_configured', 'API tokens are not set up: set JWT_SECRET.', 503);

const toInfo = (row: {
  id: string;
  name: string;
  scope: TokenScope;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}): TokenInfo => ({
  id: row.id,
  name: row.name,
  scope: row.scope,
  userId: String(row.user_id),
  createdAt: row.created_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
  revokedAt: row.revoked_at?.toISOString() ?? null,
});

const COLUMNS = ['id', 'name', 'scope', 'user_id', 'created_at', 'expires_at', 'revoked_at'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * API tokens for scripts: HS256 JWTs under JWT_SECRET that name a row of `api_tokens`. The row, not the JWT,
 * decides whether the token still works (revoked, expired by the process clock), so revocation is immediate.
 */
export function apiTokens(deps: { db: Db; cfg: Pick<Config, 'JWT_SECRET'>; now: () => Date }) {
  const secret = deps.cfg.JWT_SECRET;

  return {
    /** Creates a token for the acting owner; the secret is in the answer only, never stored. */
    async create(
      actor: MemberActor,
      input: z.infer<typeof createTokenSchema>,
    ): Promise<{ token: string; info: TokenInfo }> {
      requirePermission(actor, 'tokens.manage');
      if (!secret) throw notConfigured();
      const now = deps.now();
      const expiresAt = new Date(now.getTime() + input.expiresInDays * DAY_MS);
      const row = await transact(deps.db, async (trx) => {
        const inserted = await trx
          .insertInto('api_tokens')
          .values({
            user_id: actor.userId!,
            name: input.name,
            scope: input.scope,
            created_at: now,
            expires_at: expiresAt,
          })
          .returning(COLUMNS)
          .executeTakeFirstOrThrow();
        const info = toInfo(inserted);
        await auditAction(trx, actor, {
          action: 'token.create',
          target: { type: 'api_token', id: info.id },
          before: null,
          after: info,
          reason: null,
        });
        return info;
      });
      const token = await sign(
        {
          jti: row.id,
          sub: row.userId,
          scope: row.scope,
          iat: Math.floor(now.getTime() / 1000),
          exp: Math.floor(expiresAt.getTime() / 1000),
        },
        secret,
        'HS256',
      );
      return { token, info: row };
    },

    /** Every token of the installation, newest first (owners see and revoke each other's). */
    async list(actor: MemberActor): Promise<TokenInfo[]> {
      requirePermission(actor, 'tokens.manage');
      const rows = await deps.db
        .selectFrom('api_tokens')
        .select(COLUMNS)
        .orderBy('created_at', 'desc')
        .limit(500)
        .execute();
      return rows.map(toInfo);
    },

    /** Revokes a token; revoking one that is already revoked changes nothing and writes no audit row. */
    async revoke(actor: MemberActor, tokenId: string): Promise<TokenInfo> {
      requirePermission(actor, 'tokens.manage');
      const notFound = new AppError('token_not_found', 'No API token has that id.', 404);
      if (!UUID.test(tokenId)) throw notFound;
      return transact(deps.db, async (trx) => {
        const before = await trx
          .selectFrom('api_tokens')
          .select(COLUMNS)
          .where('id', '=', tokenId)
          .forUpdate()
          .executeTakeFirst();
        if (!before) throw notFound;
        if (before.revoked_at) return toInfo(before);
        const after = await trx
          .updateTable('api_tokens')
          .set({ revoked_at: deps.now(), revoked_by: actor.userId })
          .where('id', '=', tokenId)
          .returning(COLUMNS)
          .executeTakeFirstOrThrow();
        await auditAction(trx, actor, {
          action: 'token.revoke',
          target: { type: 'api_token', id: tokenId },
          before: toInfo(before),
          after: toInfo(after),
          reason: null,
        });
        return toInfo(after);
      });
    },

    /** The holder of a bearer token that is well signed, not revoked and not expired; otherwise null. */
    async verify(token: string): Promise<TokenHolder | null> {
      if (!secret) return null;
      let payload: Record<string, unknown>;
      try {
        // Expiry is checked against the row with the process clock below, not the JWT library's wall clock.
        payload = await verify(token, secret, { alg: 'HS256', exp: false, iat: false, nbf: false });
      } catch {
        return null;
      }
      if (typeof payload.jti !== 'string' || !UUID.test(payload.jti)) return null;
      const row = await deps.db
        .selectFrom('api_tokens')
        .innerJoin('users', 'users.id', 'api_tokens.user_id')
        .select(['api_tokens.id', 'api_tokens.scope', 'api_tokens.user_id', 'users.discord_id'])
        .where('api_tokens.id', '=', payload.jti)
        .where('api_tokens.revoked_at', 'is', null)
        .where('api_tokens.expires_at', '>', deps.now())
        .executeTakeFirst();
      if (!row) return null;
      return {
        tokenId: row.id,
        scope: row.scope,
        userId: String(row.user_id),
        discordId: row.discord_id,
      };
    },
  };
}

export type ApiTokens = ReturnType<typeof apiTokens>;

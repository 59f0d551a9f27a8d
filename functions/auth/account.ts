import { Hono, type Context } from 'hono';
import { AppError } from '../../economy/errors.ts';
import { ACTIONS, can } from '../../economy/rbac.ts';
import type { AppDeps, AppEnv } from '../context.ts';
import type { PanelAuth } from './panel.ts';
import { createTokenSchema } from './tokens.ts';

/** API tokens are managed from a signed-in panel session only: a token cannot mint or revoke tokens. */
function requireSession(c: Context<AppEnv>): void {
  if (c.get('auth').kind !== 'session')
    throw new AppError('session_required', 'Manage API tokens from the panel, not with a token.', 403);
}

/** The JSON body of a request, or a 400 naming what is wrong with it. */
async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AppError('invalid_body', 'The request body must be JSON.', 400);
  }
}

/**
 * The signed-in caller's own routes under /api (behind `panelAuth`): `GET /api/me` (who they are, their role and
 * permissions, the CSRF token for the panel) and the owners' API tokens (`POST`/`GET /api/tokens`,
 * `DELETE /api/tokens/:id`).
 */
export function accountRoutes(deps: AppDeps, panel: PanelAuth) {
  return new Hono<AppEnv>()
    .get('/me', async (c) => {
      const actor = c.get('actor');
      const auth = c.get('auth');
      const user = await deps.db
        .selectFrom('users')
        .select(['id', 'discord_id', 'username', 'global_name', 'avatar'])
        .where('id', '=', actor.userId)
        .executeTakeFirstOrThrow();
      return c.json({
        user: {
          id: String(user.id),
          discordId: user.discord_id,
          username: user.username,
          globalName: user.global_name,
          avatar: user.avatar,
        },
        role: actor.role,
        permissions: ACTIONS.filter((action) => can(actor.role, action)),
        auth: auth.kind === 'session' ? { kind: 'session' } : { kind: 'token', scope: auth.scope },
        csrfToken: auth.kind === 'session' ? auth.csrfToken : null,
      });
    })

    .post('/tokens', async (c) => {
      requireSession(c);
      const parsed = createTokenSchema.safeParse(await jsonBody(c));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new AppError('invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`, 400);
      }
      const { token, info } = await panel.tokens.create(c.get('actor'), parsed.data);
      return c.json({ token, ...info }, 201);
    })

    .get('/tokens', async (c) => {
      requireSession(c);
      return c.json({ tokens: await panel.tokens.list(c.get('actor')) });
    })

    .delete('/tokens/:id', async (c) => {
      requireSession(c);
      return c.json(await panel.tokens.revoke(c.get('actor'), c.req.param('id')));
    });
}

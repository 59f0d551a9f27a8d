import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { replaceRoleMap } from '../../economy/admin.ts';
import { AppError } from '../../economy/errors.ts';
import { roleMapOf } from '../../economy/admin-reads.ts';
import { roleMapSchema } from '../../economy/rbac.ts';
import type { AppDeps } from '../context.ts';
import { apiGroup, jsonBody, jsonResponse } from './openapi.ts';

const roleMapResponse = z.object({ guildId: z.string(), roleMap: roleMapSchema }).meta({ id: 'RoleMap' });

/** /api/guild: the installation's guild settings the panel edits. */
export function guildRoutes(deps: AppDeps) {
  const guildId = () => {
    if (!deps.cfg.GUILD_ID)
      throw new AppError('guild_not_configured', 'Set GUILD_ID to bind Coinhub to a guild.', 409);
    return deps.cfg.GUILD_ID;
  };
  return apiGroup()
    .openapi(
      createRoute({
        method: 'get',
        path: '/guild/role-map',
        summary: 'Which Discord roles grant which Coinhub role',
        responses: jsonResponse(roleMapResponse, 'The role map'),
      }),
      async (c) => {
        const id = guildId();
        return c.json({ guildId: id, roleMap: await roleMapOf(deps.db, c.get('actor'), id) }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'put',
        path: '/guild/role-map',
        summary: 'Replace the role map (owners only); audited with before and after',
        request: { body: jsonBody(z.object({ roleMap: z.unknown() }).strict()) },
        responses: jsonResponse(roleMapResponse.extend({ changed: z.boolean() }), 'The role map after it'),
      }),
      async (c) => {
        const id = guildId();
        const result = await replaceRoleMap({ db: deps.db, now: deps.now }, c.get('actor'), {
          guildId: id,
          roleMap: c.req.valid('json').roleMap,
        });
        return c.json({ guildId: id, changed: result.changed, roleMap: result.roleMap }, 200);
      },
    );
}

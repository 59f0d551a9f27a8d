import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { ECONOMY_SETTING_KEYS, economySettingsSchema } from '../../config/economy-settings.ts';
import { channels } from '../../db/pubsub.ts';
import { settingsFor, type SettingView } from '../../economy/settings.ts';
import type { AppDeps } from '../context.ts';
import { apiGroup, isoOrNull, jsonBody, jsonResponse } from './openapi.ts';
import { auditSchema, toAuditJson } from './schemas.ts';

const settingKey = z.enum(ECONOMY_SETTING_KEYS as [string, ...string[]]);
const settingSchema = z
  .object({
    key: settingKey,
    value: z.unknown(),
    default: z.unknown(),
    overridden: z.boolean(),
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable(),
  })
  .meta({ id: 'Setting' });
const settingsList = z.object({ settings: z.array(settingSchema) });

const toSettingJson = (s: SettingView) => ({
  key: s.key,
  value: s.value,
  default: s.default,
  overridden: s.overridden,
  updatedAt: isoOrNull(s.updatedAt),
  updatedBy: s.updatedBy,
});

const changeBody = z
  .object({
    /** New values; the same schema validates the environment's defaults. */
    values: economySettingsSchema.partial().optional(),
    /** Settings to return to the environment's default. */
    reset: z.array(settingKey).max(ECONOMY_SETTING_KEYS.length).optional(),
  })
  .strict()
  .meta({ id: 'SettingsChange' });

/** GET/PATCH /api/settings: the economy's live parameters. */
export function settingsRoutes(deps: AppDeps) {
  const live = settingsFor(deps);
  return apiGroup()
    .openapi(
      createRoute({
        method: 'get',
        path: '/settings',
        summary: 'Every economy setting: its value in force, the environment default, whether overridden',
        responses: jsonResponse(settingsList, 'The settings'),
      }),
      async (c) => c.json({ settings: (await live.view()).map(toSettingJson) }, 200),
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/settings',
        summary: 'Change settings; every replica applies them within seconds. Audited with before and after',
        request: { body: jsonBody(changeBody) },
        responses: jsonResponse(
          settingsList.extend({ changed: z.boolean(), audit: auditSchema.nullable() }),
          'The settings after the change',
        ),
      }),
      async (c) => {
        const body = c.req.valid('json');
        const result = await live.update(c.get('actor'), {
          ...(body.values ? { values: body.values } : {}),
          ...(body.reset ? { reset: body.reset as (typeof ECONOMY_SETTING_KEYS)[number][] } : {}),
        });
        if (result.changed) {
          // Every replica (this one included) drops its cached copy; a lost message costs at most the TTL.
          await deps.redis
            .publish(channels.settings(deps.cfg.REDIS_PREFIX), result.audit?.id ?? '')
            .catch((err: unknown) =>
              c.get('log').warn({ err }, 'settings change not announced; replicas wait for the TTL'),
            );
        }
        return c.json(
          {
            changed: result.changed,
            settings: (await live.view()).map(toSettingJson),
            audit: result.audit && toAuditJson(result.audit),
          },
          200,
        );
      },
    );
}

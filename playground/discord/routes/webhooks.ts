import type { FakeDiscordApi } from '../fake-api.ts';
import { snowflake } from '../http.ts';

/** Interaction responses: edits of the original response and follow-up messages, by interaction token. */
export function webhookRoutes(api: FakeDiscordApi): void {
  api.route(
    'PATCH',
    '/webhooks/:app/:token/messages/@original',
    ({ params, body, call }) => {
      const bad = api.refuseMessage(call, body, false);
      if (bad) return bad;
      const edits = api.responseEdits.get(params.token!) ?? [];
      edits.push(body);
      api.responseEdits.set(params.token!, edits);
      return { status: 200, body: { id: snowflake(), ...(body as object) } };
    },
    { bot: false },
  );
  api.route(
    'POST',
    '/webhooks/:app/:token',
    ({ params, body, call }) => {
      const bad = api.refuseMessage(call, body, true);
      if (bad) return bad;
      const followUp = {
        id: snowflake(),
        token: params.token!,
        body: body as Record<string, unknown>,
        at: Date.now(),
      };
      api.followUps.push(followUp);
      return { status: 200, body: { id: followUp.id, ...(body as object) } };
    },
    { bot: false },
  );
}

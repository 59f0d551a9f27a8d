import type { FakeDiscordApi, FakeMessage } from '../fake-api.ts';
import { discordError, snowflake } from '../http.ts';

/** How long Discord remembers a nonce for `enforce_nonce` ("the past few minutes"). */
const NONCE_WINDOW_MS = 5 * 60_000;

/** Channel messages (read, post with nonces, edit, delete) and DM channels. */
export function messageRoutes(api: FakeDiscordApi): void {
  const findMessage = (channelId: string, messageId: string) =>
    api.channelMessages(channelId).find((m) => m.id === messageId);

  api.route('GET', '/channels/:channel/messages', ({ params, query }) => {
    if (!api.channels.has(params.channel!)) return discordError(404, 10003, 'Unknown Channel');
    const limit = Math.min(100, Number(query.get('limit') ?? 50));
    return { status: 200, body: [...api.channelMessages(params.channel!)].reverse().slice(0, limit) };
  });
  api.route('POST', '/channels/:channel/messages', ({ params, body, call }) => {
    if (!api.channels.has(params.channel!)) return discordError(404, 10003, 'Unknown Channel');
    const bad = api.refuseMessage(call, body, true);
    if (bad) return bad;
    const slot = api.takeMessageSlot(params.channel!);
    if ('refused' in slot) return slot.refused;
    // Like Discord: with enforce_nonce, a recent message by the same author with the same nonce is returned
    // instead of creating a second one.
    const b = body as { nonce?: unknown; enforce_nonce?: unknown };
    if (
      b.nonce !== undefined &&
      (typeof b.nonce === 'number' || (typeof b.nonce === 'string' && b.nonce.length <= 25))
    ) {
      if (b.enforce_nonce === true) {
        const since = Date.now() - NONCE_WINDOW_MS;
        const earlier = api
          .channelMessages(params.channel!)
          .find(
            (m) => m.nonce === b.nonce && m.author.id === api.botUserId && Date.parse(m.timestamp) >= since,
          );
        if (earlier) {
          api.nonceHits++;
          return { status: 200, body: earlier, headers: slot.headers };
        }
      }
    } else if (b.nonce !== undefined) {
      api.problem(call, 'nonce: an integer or a string of at most 25 characters');
      return discordError(400, 50035, 'Invalid Form Body');
    }
    return {
      status: 200,
      body: api.createMessage(params.channel!, body as Record<string, unknown>),
      headers: slot.headers,
    };
  });
  api.route('GET', '/channels/:channel/messages/:message', ({ params }) => {
    const m = findMessage(params.channel!, params.message!);
    return m ? { status: 200, body: m } : discordError(404, 10008, 'Unknown Message');
  });
  api.route('PATCH', '/channels/:channel/messages/:message', ({ params, body, call }) => {
    const m = findMessage(params.channel!, params.message!);
    if (!m) return discordError(404, 10008, 'Unknown Message');
    const bad = api.refuseMessage(call, body, false);
    if (bad) return bad;
    const b = body as Partial<FakeMessage>;
    Object.assign(m, {
      ...(b.content !== undefined ? { content: b.content } : {}),
      ...(b.embeds !== undefined ? { embeds: b.embeds } : {}),
      ...(b.components !== undefined ? { components: b.components } : {}),
      edited_timestamp: new Date().toISOString(),
    });
    return { status: 200, body: m };
  });
  api.route('DELETE', '/channels/:channel/messages/:message', ({ params }) => {
    const list = api.channelMessages(params.channel!);
    const i = list.findIndex((m) => m.id === params.message);
    if (i < 0) return discordError(404, 10008, 'Unknown Message');
    list.splice(i, 1);
    return { status: 204 };
  });
  api.route('POST', '/users/@me/channels', ({ body, call }) => {
    const recipient = (body as { recipient_id?: unknown } | undefined)?.recipient_id;
    if (typeof recipient !== 'string' || !/^\d+$/.test(recipient)) {
      api.problem(call, 'recipient_id: a snowflake');
      return discordError(400, 50035, 'Invalid Form Body');
    }
    const existing = [...api.channels.values()].find(
      (c) => c.type === 1 && c.recipients?.[0]?.id === recipient,
    );
    const channel = existing ?? {
      id: snowflake(),
      type: 1,
      permission_overwrites: [],
      recipients: [{ id: recipient }],
    };
    api.channels.set(channel.id, channel);
    return { status: 200, body: channel };
  });
}

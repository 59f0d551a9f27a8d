import type { FakeChannel, FakeDiscordApi } from '../fake-api.ts';
import { discordError, snowflake } from '../http.ts';

/** Guild channels: list, create (with permission overwrites) and edit one overwrite. */
export function channelRoutes(api: FakeDiscordApi): void {
  api.route('GET', '/guilds/:guild/channels', ({ params }) =>
    api.guilds.has(params.guild!)
      ? { status: 200, body: api.guildChannels(params.guild!) }
      : discordError(404, 10004, 'Unknown Guild'),
  );
  api.route('POST', '/guilds/:guild/channels', ({ params, body, call }) => {
    if (!api.guilds.has(params.guild!)) return discordError(404, 10004, 'Unknown Guild');
    const b = body as Partial<FakeChannel> | undefined;
    const problems: string[] = [];
    if (!b || typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 100)
      problems.push('name: 1 to 100');
    if (b?.topic && b.topic.length > 1024) problems.push('topic: at most 1024');
    for (const o of b?.permission_overwrites ?? []) {
      if (
        !/^\d+$/.test(o.id) ||
        (o.type !== 0 && o.type !== 1) ||
        !/^\d+$/.test(o.allow ?? '0') ||
        !/^\d+$/.test(o.deny ?? '0')
      )
        problems.push('permission_overwrites: {id, type 0|1, allow, deny as decimal strings}');
    }
    if (problems.length > 0) {
      problems.forEach((p) => api.problem(call, p));
      return discordError(400, 50035, 'Invalid Form Body', problems);
    }
    const channel: FakeChannel = {
      id: snowflake(),
      guild_id: params.guild!,
      type: b!.type ?? 0,
      name: b!.name!,
      topic: b!.topic ?? null,
      permission_overwrites: (b!.permission_overwrites ?? []).map((o) => ({
        ...o,
        allow: o.allow ?? '0',
        deny: o.deny ?? '0',
      })),
    };
    api.channels.set(channel.id, channel);
    return { status: 201, body: channel };
  });
  api.route('PUT', '/channels/:channel/permissions/:overwrite', ({ params, body, call }) => {
    const channel = api.channels.get(params.channel!);
    if (!channel) return discordError(404, 10003, 'Unknown Channel');
    const b = body as { type?: number; allow?: string; deny?: string } | undefined;
    if (!b || (b.type !== 0 && b.type !== 1)) {
      api.problem(call, 'type: 0 (role) or 1 (member)');
      return discordError(400, 50035, 'Invalid Form Body');
    }
    const overwrite = { id: params.overwrite!, type: b.type, allow: b.allow ?? '0', deny: b.deny ?? '0' };
    channel.permission_overwrites = [
      ...channel.permission_overwrites.filter((o) => o.id !== overwrite.id),
      overwrite,
    ];
    return { status: 204 };
  });
}

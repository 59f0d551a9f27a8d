import type { FakeDiscordApi } from '../fake-api.ts';
import { discordError } from '../http.ts';

/** Guild roles and members: read them, and give or take a member's role (market role rewards). */
export function memberRoutes(api: FakeDiscordApi): void {
  const guildOr404 = (guild: string) =>
    api.guilds.has(guild) ? undefined : discordError(404, 10004, 'Unknown Guild');
  api.route(
    'GET',
    '/guilds/:guild/roles',
    ({ params }) => guildOr404(params.guild!) ?? { status: 200, body: api.roles.get(params.guild!) ?? [] },
  );
  api.route('GET', '/guilds/:guild/members/:user', ({ params }) => {
    const member = api.members.get(params.guild!)?.get(params.user!);
    return member ? { status: 200, body: member } : discordError(404, 10007, 'Unknown Member');
  });
  const changeRole =
    (add: boolean) =>
    ({ params }: { params: Record<string, string> }) => {
      const missing = guildOr404(params.guild!);
      if (missing) return missing;
      const member = api.members.get(params.guild!)?.get(params.user!);
      if (!member) return discordError(404, 10007, 'Unknown Member');
      if (!(api.roles.get(params.guild!) ?? []).some((r) => r.id === params.role))
        return discordError(404, 10011, 'Unknown Role');
      member.roles = add
        ? [...new Set([...member.roles, params.role!])]
        : member.roles.filter((r) => r !== params.role);
      return { status: 204 };
    };
  api.route('PUT', '/guilds/:guild/members/:user/roles/:role', changeRole(true));
  api.route('DELETE', '/guilds/:guild/members/:user/roles/:role', changeRole(false));
}

import type { FakeDiscordApi } from '../fake-api.ts';
import { discordError, snowflake } from '../http.ts';
import { commandProblems } from '../limits.ts';

/** Application commands, global and per guild: list and bulk overwrite (ids kept for unchanged names). */
export function commandRoutes(api: FakeDiscordApi): void {
  const scoped = (path: string, scopeOf: (p: Record<string, string>) => string) => {
    api.route('GET', path, ({ params }) => ({
      status: 200,
      body: api.commands.get(scopeOf(params)) ?? [],
    }));
    api.route('PUT', path, ({ params, body, call }) => {
      const problems = commandProblems(body);
      if (problems.length > 0) {
        problems.forEach((p) => api.problem(call, p));
        return discordError(400, 50035, 'Invalid Form Body', problems);
      }
      const scope = scopeOf(params);
      const before = api.commands.get(scope) ?? [];
      const next = (body as Record<string, unknown>[]).map((c) => ({
        ...c,
        name: c.name as string,
        id: before.find((b) => b.name === c.name)?.id ?? snowflake(),
        application_id: params.app!,
        version: snowflake(),
      }));
      api.commands.set(scope, next);
      return { status: 200, body: next };
    });
  };
  scoped('/applications/:app/commands', () => 'global');
  scoped('/applications/:app/guilds/:guild/commands', (p) => p.guild!);
}

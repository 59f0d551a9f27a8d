import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Routes } from 'discord-api-types/v10';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordRest } from '../../discord/rest.ts';
import { snowflake } from '../discord/http.ts';
import { createDiscordSigner } from '../signer.ts';
import { Playground } from './playground.ts';

const TOKEN = 'playground-unit-token';
const started: Playground[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) await p.close();
});

async function start(stateFile: string, guildId: string, applicationId: string) {
  const playground = await Playground.start({
    interactionsUrl: 'http://127.0.0.1:9/interactions',
    signer: createDiscordSigner(),
    applicationId,
    guildId,
    botToken: TOKEN,
    stateFile,
  });
  started.push(playground);
  return playground;
}

describe('the playground guild', () => {
  it("keeps channels, messages and members' roles across restarts, with their ids", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'coinhub-pg-')), 'guild.json');
    const guildId = snowflake();
    const applicationId = snowflake();
    const first = await start(file, guildId, applicationId);
    const rest = createDiscordRest({ DISCORD_API_BASE: first.api.url, DISCORD_TOKEN: TOKEN });
    const channel = (await rest.post(Routes.guildChannels(guildId), { body: { name: 'shop', type: 0 } })) as {
      id: string;
    };
    const message = (await rest.post(Routes.channelMessages(channel.id), {
      body: { content: 'Sword, 10 coins' },
    })) as {
      id: string;
    };
    const role = first.api.roles.get(guildId)!.find((r) => r.name === 'Moderator')!;
    const alex = first.members.find((m) => m.key === 'alex')!;
    await rest.put(Routes.guildMemberRole(guildId, alex.id, role.id));
    await first.close();
    started.splice(0);

    const second = await start(file, guildId, applicationId);
    const state = second.state('ada', channel.id);
    expect(state.channels.map((c) => c.name)).toEqual(['general', 'shop']);
    expect(state.messages.map((m) => [m.id, m.content])).toEqual([[message.id, 'Sword, 10 coins']]);
    expect(state.members.find((m) => m.key === 'alex')!.roles).toEqual([role.id]);
    expect(second.api.problems).toEqual([]);
  });
});

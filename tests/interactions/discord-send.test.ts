import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInteractionServer, type InteractionServer } from '../helpers/interaction-server.ts';

const run = promisify(execFile);
const send = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/discord-send.ts', ...args], {
    env: { PATH: process.env.PATH },
  });

let rig: InteractionServer;
let publicKey: string;
beforeAll(async () => {
  const { stderr } = await send(['--print-key']);
  publicKey = /DISCORD_PUBLIC_KEY=([0-9a-f]{64})/.exec(stderr)![1]!;
  rig = await startInteractionServer({ env: { DISCORD_PUBLIC_KEY: publicKey } });
});
afterAll(async () => {
  await rig?.stop();
});

describe('npm run discord:send', () => {
  it('signs with the development key, sends commands and button clicks, and prints the answer', async () => {
    const url = `${rig.server.url}/interactions`;
    const daily = await send(['/daily', '--user', '700000000000000001', '--url', url]);
    expect(daily.stdout).toMatch(/^HTTP 200/);
    const answer = JSON.parse(daily.stdout.slice(daily.stdout.indexOf('{'))) as {
      data: { flags: number; embeds: { title: string }[] };
    };
    expect(answer.data.flags).toBe(64);
    expect(answer.data.embeds[0]!.title).toBe('+100 coins');

    const pay = await send([
      '/pay',
      'user=700000000000000002',
      'amount=30',
      'note=thanks',
      '--user',
      '700000000000000001',
      '--url',
      url,
    ]);
    const confirmId = /"(pay:confirm:\d+)"/.exec(pay.stdout)![1]!;
    const confirm = await send([confirmId, '--user', '700000000000000001', '--url', url]);
    expect(confirm.stdout).toContain('Payment sent');

    const card = await send([
      '/card',
      'user=700000000000000001',
      '--user',
      '700000000000000002',
      '--admin',
      '--url',
      url,
    ]);
    expect(card.stdout).toContain('"value": "70 coins"');

    // A subcommand is the first bare word after the command.
    const roles = await send(['/setup', 'roles', '--admin', '--url', url]);
    const rolesAnswer = JSON.parse(roles.stdout.slice(roles.stdout.indexOf('{'))) as {
      data: { flags: number; content?: string };
    };
    expect(rolesAnswer.data.flags).toBe(64);
    expect(JSON.stringify(rolesAnswer.data)).not.toMatch(/unknown action|not name=value/i);
  });

  it('says which key to start the server with when the signature is refused', async () => {
    const other = await startInteractionServer();
    try {
      await expect(send(['/coins', '--url', `${other.server.url}/interactions`])).rejects.toMatchObject({
        stdout: expect.stringMatching(/^HTTP 401/),
        stderr: expect.stringContaining(`DISCORD_PUBLIC_KEY=${publicKey}`),
      });
    } finally {
      await other.stop();
    }
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../db/client.ts';
import type { FakeMessage } from '../../playground/discord/fake-api.ts';
import { waitFor } from '../helpers/wait.ts';

/** The transfer ids a feed message shows, in order: embed titles `#12 · …` or compact lines `` `#12` … ``. */
export function transferIdsIn(message: Pick<FakeMessage, 'embeds'>): string[] {
  const ids: string[] = [];
  for (const e of message.embeds as { title?: string; description?: string }[]) {
    if (e.title === 'Admin') continue;
    const titled = /^#(\d+) · /.exec(e.title ?? '');
    if (titled) {
      ids.push(titled[1]!);
      continue;
    }
    for (const line of (e.description ?? '').split('\n')) {
      const m = /^`#(\d+)`/.exec(line);
      if (m) ids.push(m[1]!);
    }
  }
  return ids;
}

/** Every transfer id the feed channel shows, message by message. */
export const feedIds = (messages: FakeMessage[]) => messages.flatMap(transferIdsIn);

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL: the process dies at once, mid-request, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Starts the real entry point with ROLE=worker and waits until it logs that its queues are running. */
export async function startWorkerProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env, ROLE: 'worker', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await waitFor(
    () => out.includes('"msg":"worker started"') || child.exitCode !== null,
    timeoutMs,
    50,
  );
  if (!ready || child.exitCode !== null) {
    child.kill('SIGKILL');
    throw new Error(`worker did not start:\n${out}`);
  }
  return {
    child,
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The longest time between a transfer (after `afterId`) and the feed message that shows it being posted. */
export async function maxFeedLagMs(db: Db, messages: FakeMessage[], afterId: bigint): Promise<number> {
  const rows = await db
    .selectFrom('transfers')
    .select(['id', 'created_at'])
    .where('id', '>', afterId.toString())
    .execute();
  const createdAt = new Map(rows.map((r) => [String(r.id), new Date(r.created_at as Date).getTime()]));
  return Math.max(
    ...messages.flatMap((m) => transferIdsIn(m).map((id) => Date.parse(m.timestamp) - createdAt.get(id)!)),
  );
}

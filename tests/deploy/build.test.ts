import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('npm run build', () => {
  it('lists only paths that exist and compiles what runs: no tests, fakes, playground or dev scripts', async () => {
    const config = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    expect(config.include.filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--listFilesOnly'],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const ours = stdout
      .split('\n')
      .filter((f) => f.startsWith(ROOT) && !f.includes('/node_modules/'))
      .map((f) => path.relative(ROOT, f));
    expect(ours).toContain('functions/server.ts');
    expect(ours).toContain('scripts/healthcheck.ts');
    expect(
      ours.filter((f) => /\.test\.ts$|^tests\/|^playground\/|^scripts\/(bench|discord-send)/.test(f)),
    ).toEqual([]);
  });
});

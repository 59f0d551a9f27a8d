import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPOSE_FILE, ROOT, loadCompose } from './compose-check.ts';
import { dockerfileFindings, dockerfileStages, runtimeFindings } from './dockerfile-check.ts';

const dockerfile = readFileSync(new URL('docker/Dockerfile', ROOT), 'utf8');
const FINAL_STAGES = ['runtime', 'proxy', 'backup'];

describe('docker/Dockerfile lint', () => {
  it('has no findings', () => {
    expect(dockerfileFindings(dockerfile, FINAL_STAGES)).toEqual([]);
    expect(runtimeFindings(dockerfile, 'runtime')).toEqual([]);
  });

  it('builds dependencies, then the code, then a runtime from pinned bases', () => {
    const stages = dockerfileStages(dockerfile);
    expect([...stages.keys()]).toEqual(['deps', 'build', 'runtime', 'proxy', 'backup']);
    expect(stages.get('runtime')!.image).toMatch(/^node:22\.\d+\.\d+-bookworm-slim$/);
    expect(stages.get('backup')!.image).toMatch(/^postgres:16\./);
    expect(stages.get('runtime')!.user).toBe('node');
  });

  it('runs the entry and the healthcheck that the build produces and compose uses', () => {
    const runtime = dockerfileStages(dockerfile).get('runtime')!;
    const args = (keyword: string) =>
      runtime.instructions.find((i) => i.getKeyword() === keyword)!.getRawArgumentsContent();
    const tsconfig = JSON.parse(readFileSync(new URL('tsconfig.json', ROOT), 'utf8'));
    expect(tsconfig.compilerOptions.outDir).toBe('dist');
    expect(args('CMD')).toBe('["node", "dist/functions/server.js"]');
    expect(args('HEALTHCHECK')).toContain('CMD ["node", "dist/scripts/healthcheck.js"]');
    const compose = loadCompose(readFileSync(COMPOSE_FILE, 'utf8'));
    for (const role of ['api', 'worker'])
      expect(compose.services[role].healthcheck.test).toEqual(['CMD', 'node', 'dist/scripts/healthcheck.js']);
  });

  it('finds the problems it is meant to find (the lint can fail)', () => {
    const bad = [
      'FROM node:latest AS runtime',
      'ADD . /app',
      'WORKDIR app',
      'RUN apt-get update && apt-get install -y tini',
      'RUN npm install',
      'COPY --from=builder /app/dist ./dist',
      'CMD node server.js',
      'FROMM nowhere',
    ].join('\n');
    const findings = dockerfileFindings(bad, ['runtime']);
    expect(findings).toEqual(
      expect.arrayContaining([
        'runtime: base image node:latest is not pinned to a version tag',
        'line 2: ADD; use COPY for local files',
        'line 3: relative WORKDIR',
        'line 4: apt-get install without --no-install-recommends',
        'line 4: apt lists are not removed in the same layer',
        'line 5: npm install; use npm ci with the lockfile',
        'line 6: COPY --from=builder names no earlier stage',
        'line 7: CMD in shell form; use the JSON form',
        'runtime: runs as root (no non-root USER)',
        'runtime: no HEALTHCHECK',
      ]),
    );
    expect(findings.some((f) => /line 8: .*FROMM/i.test(f))).toBe(true);
    expect(runtimeFindings(bad, 'runtime')).toEqual([
      'runtime: no `npm ci --omit=dev`',
      'runtime: PID 1 is not an init process (tini)',
    ]);
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    const ignored = readFileSync(new URL('.dockerignore', ROOT), 'utf8').split('\n');
    for (const entry of ['node_modules', '.env', 'secrets', '.git', 'dist', 'panel/dist'])
      expect(ignored).toContain(entry);
  });
});

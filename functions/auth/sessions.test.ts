import { describe, expect, it } from 'vitest';
import { cookieHeader, signValue, unsignValue } from './sessions.ts';

describe('panel cookies', () => {
  const attrs = (panel: string) =>
    cookieHeader({ PANEL_BASE_URL: panel }, '__Host-coinhub_session', 'v', {
      maxAgeSeconds: 60,
      sameSite: 'Strict',
    }).split('; ');

  it('are HttpOnly, Path=/, without Domain, and Secure on https', () => {
    const cookie = attrs('https://coins.example.com');
    expect(cookie).toEqual(
      expect.arrayContaining(['__Host-coinhub_session=v', 'HttpOnly', 'Path=/', 'Secure', 'SameSite=Strict']),
    );
    expect(cookie.some((a) => a.startsWith('Domain'))).toBe(false);
  });

  it('drop Secure only for plain http on the local machine', () => {
    expect(attrs('http://localhost:8787')).not.toContain('Secure');
    expect(attrs('http://127.0.0.1:3000')).not.toContain('Secure');
    expect(attrs('http://coins.example.com')).toContain('Secure');
    expect(attrs('http://localhost.example.com')).toContain('Secure');
  });
});

describe('signed values', () => {
  it('round-trip under the same secret and fail under another or when altered', () => {
    const signed = signValue('secret-a', 'session-id');
    expect(unsignValue('secret-a', signed)).toBe('session-id');
    expect(unsignValue('secret-b', signed)).toBeNull();
    expect(unsignValue('secret-a', `other-id${signed.slice('session-id'.length)}`)).toBeNull();
    expect(unsignValue('secret-a', 'session-id')).toBeNull();
    expect(unsignValue('secret-a', undefined)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { cookieHeader, signValue, unsignValue } from './sessions.ts';

describe('panel cookies', () => {
  it('are HttpOnly, Secure, Path=/ and without Domain, as the __Host- prefix requires', () => {
    const cookie = cookieHeader('__Host-coinhub_session', 'v', {
      maxAgeSeconds: 60,
      sameSite: 'Strict',
    }).split('; ');
    expect(cookie).toEqual(
      expect.arrayContaining(['__Host-coinhub_session=v', 'HttpOnly', 'Path=/', 'Secure', 'SameSite=Strict']),
    );
    expect(cookie.some((a) => a.startsWith('Domain'))).toBe(false);
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

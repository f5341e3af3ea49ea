import { describe, expect, it } from 'vitest';
import type { SessionStore } from '../auth/session-store.js';
import { parseServerConfig } from '../config.js';
import { parseCookies } from './cookies.js';
import { WebAuth } from './web-auth.js';

const noSessions = {} as SessionStore;

describe('session cookies', () => {
  it('are Secure when the dashboard is served behind --public-url https://', () => {
    const config = parseServerConfig(['--public-url', 'https://algwatch.msp.example/'], {});
    expect(config.publicUrl).toBe('https://algwatch.msp.example');
    const auth = new WebAuth(noSessions, { secureCookies: config.publicUrl?.startsWith('https://') ?? false });
    expect(auth.sessionCookie('s3cret')).toBe('algwatch_session=s3cret; Path=/; SameSite=Lax; HttpOnly; Secure; Max-Age=43200');
    expect(auth.clearedCookie()).toBe('algwatch_session=; Path=/; SameSite=Lax; HttpOnly; Secure; Max-Age=0');
  });

  it('are not Secure over plain http, where a Secure cookie would never come back', () => {
    const auth = new WebAuth(noSessions, { secureCookies: false });
    expect(auth.sessionCookie('s3cret')).not.toContain('Secure');
  });

  it('rejects a --public-url without a scheme in one line', () => {
    expect(() => parseServerConfig(['--public-url', 'algwatch.example'], {})).toThrow('--public-url (ALGWATCH_PUBLIC_URL) must be an http:// or https:// URL, e.g. https://algwatch.msp.example');
  });

  it('reads the first of duplicate cookies and ignores malformed parts', () => {
    expect([...parseCookies('a=1; b=2; a=3; junk; =x')]).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });
});

/**
 * WebAuth turns a request's session cookie into the logged-in Viewer, and writes and clears that
 * cookie. Used by the HTTP dispatcher and the socket.io namespaces alike, so a browser is one user
 * with one set of rights whichever way it asks.
 */
import type { IncomingMessage } from 'node:http';
import type { ActiveSession, SessionStore } from '../auth/session-store.js';
import { SESSION_LIFETIME_MS } from '../auth/session-store.js';
import { parseCookies, serializeCookie } from './cookies.js';

export const SESSION_COOKIE = 'algwatch_session';

export interface WebAuthOptions {
  /** Mark cookies Secure: the dashboard is reached over https (--public-url https://...). */
  secureCookies: boolean;
}

export class WebAuth {
  constructor(
    readonly sessions: SessionStore,
    private readonly options: WebAuthOptions,
  ) {}

  /** sessionOf returns the request's session (user and CSRF token), or null without a valid one. */
  async sessionOf(req: Pick<IncomingMessage, 'headers'>): Promise<(ActiveSession & { secret: string }) | null> {
    const secret = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (!secret) return null;
    const session = await this.sessions.findSession(secret);
    return session ? { ...session, secret } : null;
  }

  /** sessionCookie is the Set-Cookie value that logs the browser in. */
  sessionCookie(secret: string): string {
    return serializeCookie(SESSION_COOKIE, secret, { secure: this.secureFor(), maxAgeSeconds: SESSION_LIFETIME_MS / 1000 });
  }

  /** clearedCookie is the Set-Cookie value that logs the browser out. */
  clearedCookie(): string {
    return serializeCookie(SESSION_COOKIE, '', { secure: this.secureFor(), maxAgeSeconds: 0 });
  }

  /** cookie builds another cookie with the same Secure setting (the login form's token). */
  cookie(name: string, value: string, maxAgeSeconds: number): string {
    return serializeCookie(name, value, { secure: this.secureFor(), maxAgeSeconds });
  }

  private secureFor(): boolean {
    return this.options.secureCookies;
  }
}

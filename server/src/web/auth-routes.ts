/**
 * Login and logout. The login form is plain server-rendered HTML (inputs `username` and `password`)
 * so it works before any script loads. It is the one state change without a session; it is guarded
 * by a double-submit token (a cookie and a hidden field that must match, which another site can
 * neither read nor set) and by the dispatcher's Origin check. Failed logins are throttled.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { UserStore } from '../auth/user-store.js';
import { parseCookies } from './cookies.js';
import { escapeHtml, readForm, redirect, sendHtml, sendJson, type RequestContext, type WebRoute } from './http-kit.js';
import type { LoginThrottle } from './login-throttle.js';
import { SESSION_COOKIE, type WebAuth } from './web-auth.js';

const LOGIN_TOKEN_COOKIE = 'algwatch_login';

export interface AuthRoutesDeps {
  users: UserStore;
  auth: WebAuth;
  throttle: LoginThrottle;
  log: Pick<Logger, 'info' | 'warn'>;
}

export function authRoutes(deps: AuthRoutesDeps): WebRoute[] {
  return [
    { method: 'GET', path: '/login', access: 'public', handle: (ctx) => showLoginForm(deps, ctx, 200, '') },
    { method: 'POST', path: '/login', access: 'public', csrfExempt: true, handle: (ctx) => logIn(deps, ctx) },
    {
      method: 'POST',
      path: '/logout',
      access: 'api',
      async handle(ctx) {
        const secret = parseCookies(ctx.req.headers.cookie).get(SESSION_COOKIE);
        if (secret) await deps.auth.sessions.endSession(secret);
        sendJson(ctx.res, 200, { ok: true }, { 'set-cookie': deps.auth.clearedCookie() });
      },
    },
    {
      method: 'GET',
      path: '/api/session',
      access: 'api',
      handle: (ctx) => sendJson(ctx.res, 200, { user: ctx.viewer, csrfToken: ctx.csrfToken }),
    },
  ];
}

async function logIn(deps: AuthRoutesDeps, ctx: RequestContext): Promise<void> {
  const form = await readForm(ctx.req);
  const username = (form.get('username') ?? '').trim();
  const password = form.get('password') ?? '';
  const next = safeNext(form.get('next'));
  const cookieToken = parseCookies(ctx.req.headers.cookie).get(LOGIN_TOKEN_COOKIE) ?? '';
  const formToken = form.get('csrf') ?? '';
  if (!cookieToken || cookieToken.length !== formToken.length || !timingSafeEqual(Buffer.from(cookieToken), Buffer.from(formToken))) {
    return showLoginForm(deps, ctx, 403, 'The login form expired: please try again.', next);
  }
  const address = ctx.req.socket.remoteAddress ?? 'unknown';
  const waitSeconds = deps.throttle.refusedFor(username, address);
  if (waitSeconds > 0) {
    deps.log.warn({ username: username.slice(0, 64), address }, 'login throttled after repeated failures');
    return showLoginForm(deps, ctx, 429, `Too many failed logins: wait ${waitSeconds} seconds and try again.`, next, { 'retry-after': String(waitSeconds) });
  }
  const user = username && password ? await deps.users.checkPassword(username, password) : null;
  if (!user) {
    deps.throttle.recordFailure(username, address);
    deps.log.warn({ username: username.slice(0, 64), address }, 'login failed');
    return showLoginForm(deps, ctx, 401, 'Wrong username or password.', next);
  }
  const session = await deps.auth.sessions.createSession(user.userId);
  deps.log.info({ username: user.name, address }, 'logged in');
  redirect(ctx.res, next, { 'set-cookie': [deps.auth.sessionCookie(session.secret), deps.auth.cookie(LOGIN_TOKEN_COOKIE, '', 0)] });
}

/** safeNext keeps a post-login redirect on this site: a path, never `//host` or a URL. */
function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

function showLoginForm(deps: AuthRoutesDeps, ctx: RequestContext, status: number, message: string, next = safeNext(ctx.url.searchParams.get('next')), headers: Record<string, string> = {}): void {
  // Reuse the browser's token when it has one: another GET /login in between (a second tab, the
  // favicon's redirect) must not invalidate the form already on screen.
  const existing = parseCookies(ctx.req.headers.cookie).get(LOGIN_TOKEN_COOKIE);
  const token = existing && /^[A-Za-z0-9_-]{32}$/.test(existing) ? existing : randomBytes(24).toString('base64url');
  sendHtml(ctx.res, status, loginPage(token, message, next), { ...headers, 'set-cookie': deps.auth.cookie(LOGIN_TOKEN_COOKIE, token, 3600) });
}

function loginPage(token: string, message: string, next: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>algwatch: log in</title><link rel="icon" href="data:,">
<style>
body{font:15px system-ui,sans-serif;background:#f3f4f6;color:#1f2937;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0002;width:20em}
h1{font-size:1.3em;margin:0 0 1em}label{display:block;margin:.8em 0 .3em}
input{width:100%;box-sizing:border-box;padding:.5em;font:inherit;border:1px solid #cbd5e1;border-radius:4px}
button{margin-top:1.2em;width:100%;padding:.6em;font:inherit;background:#1d4ed8;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{color:#b91c1c;margin:0 0 .5em}
</style></head><body>
<form method="post" action="/login">
<h1>algwatch</h1>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<input type="hidden" name="csrf" value="${token}">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form></body></html>
`;
}

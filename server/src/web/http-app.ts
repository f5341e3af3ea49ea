/**
 * createWebHandler dispatches the HTTP port's requests (besides socket.io, which handles its own
 * path) to the route groups, and enforces access in one place:
 * - 'public' routes answer anyone (only /healthz and the login form);
 * - every other route needs a valid session: pages redirect to /login, the API answers 401;
 * - every state change (POST, PUT, DELETE) needs the session's CSRF token in `x-csrf-token`, and
 *   a request whose Origin is another site is refused whatever it carries.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { HttpError, sendJson, redirect, type RequestContext, type WebRoute } from './http-kit.js';
import type { WebAuth } from './web-auth.js';

export interface WebHandlerDeps {
  routes: readonly WebRoute[];
  auth: WebAuth;
  log: Pick<Logger, 'warn' | 'error'>;
}

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createWebHandler(deps: WebHandlerDeps): WebHandler {
  return (req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      if (error instanceof HttpError) return reply(res, error.status, error.message);
      deps.log.error({ err: error, url: req.url?.split('?')[0] }, 'web request failed');
      reply(res, 503, 'the server could not answer: try again');
    });
  };
}

async function handle(deps: WebHandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const match = findRoute(deps.routes, method ?? 'GET', url.pathname);
  if (!match) {
    // An unknown path tells nothing to someone without a session: same answer as a known one.
    const session = await deps.auth.sessionOf(req);
    if (!session) return refuseWithoutSession(req, res, url);
    return reply(res, match === null ? 404 : 405, match === null ? 'not found' : 'method not allowed');
  }
  const { route, params } = match;
  const ctx: RequestContext = { req, res, url, params, viewer: null, csrfToken: null };
  const changesState = route.method !== 'GET';
  if (changesState && !sameOrigin(req)) throw new HttpError(403, 'cross-site request refused');
  if (route.access !== 'public') {
    const session = await deps.auth.sessionOf(req);
    if (!session) return refuseWithoutSession(req, res, url, route.access);
    ctx.viewer = session.user;
    ctx.csrfToken = session.csrfToken;
    if (changesState && !route.csrfExempt && !tokensEqual(String(req.headers['x-csrf-token'] ?? ''), session.csrfToken)) {
      throw new HttpError(403, 'missing or wrong CSRF token: reload the page');
    }
  }
  await route.handle(ctx);
}

/** findRoute returns the route and its path parameters; null when no route has the path (404), undefined when none has it with this method (405). */
function findRoute(routes: readonly WebRoute[], method: string, path: string): { route: WebRoute; params: Record<string, string> } | undefined | null {
  let pathMatched = false;
  for (const route of routes) {
    let params: Record<string, string> | undefined;
    if (typeof route.path === 'string') params = route.path === path ? {} : undefined;
    else {
      const found = route.path.exec(path);
      params = found && found[0] === path ? { ...found.groups } : undefined;
    }
    if (!params) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? undefined : null;
}

function refuseWithoutSession(req: IncomingMessage, res: ServerResponse, url: URL, access?: WebRoute['access']): void {
  const wantsPage = access === 'page' || (access === undefined && !url.pathname.startsWith('/api/') && req.method === 'GET');
  if (wantsPage) return redirect(res, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  sendJson(res, 401, { error: 'log in first' });
}

/**
 * sameOrigin: browsers send Origin on every cross-site POST (and on same-site ones too); when it is
 * there, its host must be the one the request was sent to. Non-browser clients send none.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function reply(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.end();
  sendJson(res, status, { error: message });
}

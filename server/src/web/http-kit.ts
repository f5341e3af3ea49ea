/**
 * The small HTTP layer the web routes share (node:http, no framework): a route table, request
 * context, body reading with a size cap, and replies. Each group of routes lives in its own file
 * and exports a list of WebRoute; http-app.ts dispatches and enforces access.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Viewer } from '../auth/roles.js';

/**
 * Who may call a route: 'public' anyone (health, login form); 'page' a logged-in user, else a
 * redirect to /login; 'api' a logged-in user, else 401 JSON.
 */
export type RouteAccess = 'public' | 'page' | 'api';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters from the route pattern's named groups. */
  params: Record<string, string>;
  /** The logged-in user; always set on 'page' and 'api' routes. */
  viewer: Viewer | null;
  /** The session's CSRF token (for pages that embed it); null without a session. */
  csrfToken: string | null;
}

export interface AuthedContext extends RequestContext {
  viewer: Viewer;
  csrfToken: string;
}

export interface WebRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Exact path, or a RegExp with named groups matched against the whole path. */
  path: string | RegExp;
  access: RouteAccess;
  /**
   * Login is the one state change without a session: it guards itself (a double-submit token and
   * the Origin check) instead of the session's CSRF token.
   */
  csrfExempt?: boolean;
  handle(ctx: RequestContext): Promise<void> | void;
}

/** HttpError is an expected refusal: status and a one-line message for the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 64 * 1024;

/** readBody returns the request body as text; HttpError 413 past 64 KB. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** readJson parses a JSON body; HttpError 400 with one line when it is not JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

/** readForm parses an application/x-www-form-urlencoded body. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req));
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
} as const;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // Nothing from elsewhere: the dashboard's scripts and styles are all served from here.
    'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...headers });
  res.end();
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

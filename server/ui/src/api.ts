/**
 * The JSON API as the pages use it: every answer is parsed with the protocol's schema, a 401 sends
 * the browser to the login form, and state changes carry the session's CSRF token.
 */
import * as z from '@algwatch/protocol/zod';

export interface SessionUser {
  name: string;
  role: 'admin' | 'technician' | 'viewer';
  tenants: string[] | null;
}

const sessionSchema = z.object({
  user: z.object({ name: z.string(), role: z.enum(['admin', 'technician', 'viewer']), tenants: z.nullable(z.array(z.string())) }),
  csrfToken: z.string(),
});

let csrfToken = '';

/** ApiError is a refusal the page shows as it is: the server's one-line message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call(path: string, init: RequestInit = {}): Promise<unknown> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (response.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new ApiError(401, 'log in first');
  }
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) throw new ApiError(response.status, body.error ?? `HTTP ${response.status}`);
  return body;
}

/** loadSession returns who is logged in and keeps the CSRF token for later state changes. */
export async function loadSession(): Promise<SessionUser> {
  const session = sessionSchema.parse(await call('/api/session'));
  csrfToken = session.csrfToken;
  return session.user;
}

/** getJson fetches and parses with the schema; throws ApiError for a refusal. */
export async function getJson<T>(path: string, schema: z.ZodMiniType<T>): Promise<T> {
  return schema.parse(await call(path));
}

/** send makes a state change (POST, PUT, DELETE) with the CSRF token. */
export async function send(method: 'POST' | 'PUT' | 'DELETE', path: string, body: unknown = {}): Promise<unknown> {
  return call(path, { method, headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: JSON.stringify(body) });
}

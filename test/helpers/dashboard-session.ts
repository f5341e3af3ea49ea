/**
 * Logging in to the dashboard over plain HTTP as a browser would: fetch the login form (its
 * double-submit cookie and hidden token), post the form, keep the session cookie, and read the
 * session's CSRF token from /api/session. Used by tests and benches only.
 */
export interface DashboardSession {
  /** The Cookie header value to send. */
  cookie: string;
  csrfToken: string;
  /** The session cookie as the server set it (attributes included). */
  setCookie: string;
}

export interface LoginAttempt {
  status: number;
  location: string | null;
  setCookies: string[];
  body: string;
}

/** postLogin submits the login form once and returns the raw answer. */
export async function postLogin(base: string, username: string, password: string): Promise<LoginAttempt> {
  const form = await fetch(`${base}/login`);
  const loginCookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie, origin: base },
    body: new URLSearchParams({ username, password, csrf: token, next: '/' }).toString(),
  });
  return { status: response.status, location: response.headers.get('location'), setCookies: response.headers.getSetCookie(), body: await response.text() };
}

/** logIn returns a session; throws with the status when the login is refused. */
export async function logIn(base: string, username: string, password: string): Promise<DashboardSession> {
  const attempt = await postLogin(base, username, password);
  const setCookie = attempt.setCookies.find((c) => c.startsWith('algwatch_session='));
  if (attempt.status !== 303 || !setCookie) throw new Error(`login as ${username} refused with HTTP ${attempt.status}`);
  const cookie = setCookie.split(';')[0] as string;
  const session = (await (await fetch(`${base}/api/session`, { headers: { cookie } })).json()) as { csrfToken: string };
  return { cookie, csrfToken: session.csrfToken, setCookie };
}

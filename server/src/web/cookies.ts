/** Cookie reading and writing for the dashboard's session (RFC 6265 §4.1). */

/** parseCookies reads a Cookie header into name -> value (the first of duplicate names wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const raw of (header ?? '').split(';')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

export interface CookieOptions {
  /** Sent only over HTTPS: set when the dashboard is served over https (--public-url https://...). */
  secure: boolean;
  /** Seconds; 0 deletes the cookie. Absent: a browser-session cookie. */
  maxAgeSeconds?: number;
  httpOnly?: boolean;
}

/** serializeCookie builds a Set-Cookie value: Path=/, SameSite=Lax, HttpOnly unless told otherwise. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  // Lax, not Strict: a link to a site page in an alert e-mail must open logged in. State changes
  // are guarded by the CSRF token, which Lax alone would not replace.
  const parts = [`${name}=${value}`, 'Path=/', 'SameSite=Lax'];
  if (options.httpOnly !== false) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}

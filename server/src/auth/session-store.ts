/**
 * SessionStore: dashboard login sessions in the relational store (table `sessions`), so a login
 * holds on every server process sharing the database. The cookie carries a random secret; the table
 * keeps its SHA-256 only, with the CSRF token state changes must echo.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from '../relational/schema.js';
import type { UserRecord, UserStore } from './user-store.js';

/** Sessions last 12 hours from login (a working day), then the user logs in again. */
export const SESSION_LIFETIME_MS = 12 * 3600 * 1000;

export interface Session {
  /** The secret that goes into the cookie; never stored. */
  secret: string;
  csrfToken: string;
  expiresAt: string;
}

export interface ActiveSession {
  user: UserRecord;
  csrfToken: string;
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export class SessionStore {
  constructor(
    private readonly db: Kysely<RelationalDatabase>,
    private readonly users: UserStore,
  ) {}

  /** createSession logs a user in: returns the cookie secret and CSRF token of a new session. */
  async createSession(userId: string, now = Date.now()): Promise<Session> {
    const session: Session = {
      secret: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: new Date(now + SESSION_LIFETIME_MS).toISOString(),
    };
    await this.db
      .insertInto('sessions')
      .values({ id_hash: hashSecret(session.secret), user_id: userId, csrf_token: session.csrfToken, created_at: new Date(now).toISOString(), expires_at: session.expiresAt })
      .execute();
    return session;
  }

  /** findSession returns the session's user and CSRF token; null when unknown, expired or its user is gone. */
  async findSession(secret: string, now = Date.now()): Promise<ActiveSession | null> {
    if (secret.length < 20 || secret.length > 100) return null;
    const row = await this.db
      .selectFrom('sessions')
      .select(['user_id', 'csrf_token', 'expires_at'])
      .where('id_hash', '=', hashSecret(secret))
      .executeTakeFirst();
    if (!row || row.expires_at <= new Date(now).toISOString()) return null;
    const user = await this.users.getUser(row.user_id);
    return user ? { user, csrfToken: row.csrf_token } : null;
  }

  /** endSession logs out: the secret no longer finds a session (on every process). */
  async endSession(secret: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', hashSecret(secret)).execute();
  }

  /** pruneExpired deletes sessions past their expiry; returns how many. */
  async pruneExpired(now = Date.now()): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', new Date(now).toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

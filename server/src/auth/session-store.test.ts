import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import { SESSION_LIFETIME_MS, SessionStore } from './session-store.js';
import { UserStore } from './user-store.js';

describe.each(TEST_DATABASES)('sessions on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let store: RelationalStore;
  let users: UserStore;
  let sessions: SessionStore;

  beforeAll(async () => {
    database = await createDatabase();
    store = await openRelationalStore(database.options);
    users = new UserStore(store.db);
    sessions = new SessionStore(store.db, users);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('finds the user of a session by its secret, and stores only the secret`s hash', async () => {
    const { user } = await users.addUser({ name: 'tech', role: 'technician', tenants: ['acme'] });
    const session = await sessions.createSession(user.userId);
    expect(await sessions.findSession(session.secret)).toEqual({ user, csrfToken: session.csrfToken });
    expect(JSON.stringify(await database.query('select * from sessions'))).not.toContain(session.secret);
  });

  it('finds no session for an unknown secret, after logout, or past its expiry', async () => {
    const { user } = await users.addUser({ name: 'viewer1', role: 'viewer' });
    expect(await sessions.findSession('x'.repeat(43))).toBeNull();
    const ended = await sessions.createSession(user.userId);
    await sessions.endSession(ended.secret);
    expect(await sessions.findSession(ended.secret)).toBeNull();
    const old = await sessions.createSession(user.userId, Date.now() - SESSION_LIFETIME_MS - 1000);
    expect(await sessions.findSession(old.secret)).toBeNull();
    expect(await sessions.pruneExpired()).toBeGreaterThanOrEqual(1);
  });

  it('ends a removed user`s sessions', async () => {
    const { user } = await users.addUser({ name: 'leaver', role: 'viewer' });
    const session = await sessions.createSession(user.userId);
    await users.removeUser('leaver');
    expect(await sessions.findSession(session.secret)).toBeNull();
    expect(await database.query(`select * from sessions where user_id = '${user.userId}'`)).toEqual([]);
  });
});

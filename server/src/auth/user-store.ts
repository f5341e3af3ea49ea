/**
 * UserStore: dashboard users over the shared Kysely handle (table `users`, migration
 * 0006_users_sessions). Passwords are kept only as scrypt hashes (auth/password.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { RelationalError } from '../relational/relational-error.js';
import type { RelationalDatabase } from '../relational/schema.js';
import { decoyPasswordHash, generatePassword, hashPassword, verifyPassword } from './password.js';
import { isRole, type Role, type Viewer } from './roles.js';

/** Same rule as site and tenant names: plain, so they read well in logs and CLI output. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface UserRecord extends Viewer {
  createdAt: string;
}

export interface NewUser {
  name: string;
  role: Role;
  /** Tenant names; undefined or empty means every tenant. */
  tenants?: readonly string[];
}

export class UserStore {
  constructor(private readonly db: Kysely<RelationalDatabase>) {}

  /**
   * addUser creates a user with a generated password and returns it with that password (shown once,
   * only its hash is kept). Throws RelationalError INVALID_USER for a bad name, role or tenant, and
   * USER_EXISTS when the name is taken.
   */
  async addUser(user: NewUser): Promise<{ user: UserRecord; password: string }> {
    if (!NAME_PATTERN.test(user.name)) {
      throw new RelationalError('INVALID_USER', `invalid user name ${JSON.stringify(user.name)}: use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`);
    }
    if (!isRole(user.role)) throw new RelationalError('INVALID_USER', `invalid role ${JSON.stringify(user.role)}: use admin, technician or viewer`);
    const tenants = user.tenants && user.tenants.length > 0 ? [...new Set(user.tenants)] : null;
    const badTenant = tenants?.find((tenant) => !TENANT_PATTERN.test(tenant));
    if (badTenant !== undefined) throw new RelationalError('INVALID_USER', `invalid tenant name ${JSON.stringify(badTenant)}`);
    if (user.role === 'admin' && tenants) throw new RelationalError('INVALID_USER', 'an admin sees every tenant: leave out --tenants, or use --role technician or viewer');
    const existing = await this.db.selectFrom('users').select('id').where('name', '=', user.name).executeTakeFirst();
    if (existing) throw new RelationalError('USER_EXISTS', `user ${user.name} already exists: remove it first or pick another name`);
    const password = generatePassword();
    const record: UserRecord = { userId: randomUUID(), name: user.name, role: user.role, tenants, createdAt: new Date().toISOString() };
    await this.db
      .insertInto('users')
      .values({
        id: record.userId,
        name: record.name,
        role: record.role,
        tenants: tenants ? JSON.stringify(tenants) : null,
        password_hash: await hashPassword(password),
        created_at: record.createdAt,
      })
      .execute();
    return { user: record, password };
  }

  /** listUsers returns every user by name, without password hashes. */
  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('users').select(['id', 'name', 'role', 'tenants', 'created_at']).orderBy('name').execute();
    return rows.map(toRecord);
  }

  /** getUser returns a user by id, or null when it was removed. */
  async getUser(userId: string): Promise<UserRecord | null> {
    const row = await this.db.selectFrom('users').select(['id', 'name', 'role', 'tenants', 'created_at']).where('id', '=', userId).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** removeUser deletes a user and its sessions. Throws RelationalError USER_NOT_FOUND. */
  async removeUser(name: string): Promise<void> {
    const result = await this.db.deleteFrom('users').where('name', '=', name).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new RelationalError('USER_NOT_FOUND', `no user ${name}: see \`user list\``);
    // Foreign keys cascade on both databases, but SQLite only with the pragma on: say it explicitly.
    await this.db.deleteFrom('sessions').where('user_id', 'not in', this.db.selectFrom('users').select('id')).execute();
  }

  /**
   * checkPassword returns the user when name and password match, null otherwise. An unknown name
   * costs one scrypt as well, so response times do not tell which names exist.
   */
  async checkPassword(name: string, password: string): Promise<UserRecord | null> {
    const row = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    const matches = await verifyPassword(password, row?.password_hash ?? (await decoyPasswordHash()));
    return row && matches ? toRecord(row) : null;
  }
}

function toRecord(row: { id: string; name: string; role: string; tenants: string | null; created_at: string }): UserRecord {
  return {
    userId: row.id,
    name: row.name,
    // A role edited by hand into something unknown gets the least access, not an error per request.
    role: isRole(row.role) ? row.role : 'viewer',
    tenants: row.tenants === null ? null : (JSON.parse(row.tenants) as string[]),
    createdAt: row.created_at,
  };
}

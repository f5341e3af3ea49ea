import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../relational/open.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import { UserStore } from '../auth/user-store.js';
import { userCommand, USER_USAGE, type UserCommandOptions } from './user.js';

async function run(argv: string[], options: Omit<UserCommandOptions, 'stdout' | 'stderr'>) {
  let stdout = '';
  let stderr = '';
  const code = await userCommand(argv, { ...options, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

async function passwordWorks(options: UserCommandOptions, name: string, password: string): Promise<boolean> {
  const store = await openRelationalStore(options);
  try {
    return (await new UserStore(store.db).checkPassword(name, password)) !== null;
  } finally {
    await store.close();
  }
}

describe.each(TEST_DATABASES)('user command on %s', (_label, createDatabase) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('adds a user and prints its password alone on the last line, which then logs in', async () => {
    const { code, stdout, stderr } = await run(['add', 'alice', '--role', 'technician', '--tenants', 'acme,globex'], database.options);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trimEnd().split('\n');
    const password = lines.at(-1) as string;
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(lines).toEqual(['created user alice (technician, tenants acme, globex); the password is shown once, only its hash is kept', password]);
    expect(await passwordWorks(database.options, 'alice', password)).toBe(true);
    expect(await passwordWorks(database.options, 'alice', `${password}x`)).toBe(false);
    const stored = JSON.stringify(await database.query('select * from users'));
    expect(stored).not.toContain(password);
  });

  it('stores each password with a salt of its own', async () => {
    await run(['add', 'bob', '--role', 'viewer'], database.options);
    const rows = (await database.query('select password_hash from users')) as Array<{ password_hash: string }>;
    const salts = rows.map((row) => row.password_hash.split('$')[4]);
    expect(new Set(salts).size).toBe(rows.length);
  });

  it('refuses a second user of the same name with exit code 1', async () => {
    expect(await run(['add', 'alice', '--role', 'viewer'], database.options)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'algwatch-server user: user alice already exists: remove it first or pick another name\n',
    });
  });

  it('refuses tenants on an admin', async () => {
    const { code, stderr } = await run(['add', 'root', '--role', 'admin', '--tenants', 'acme'], database.options);
    expect(code).toBe(1);
    expect(stderr).toBe('algwatch-server user: an admin sees every tenant: leave out --tenants, or use --role technician or viewer\n');
  });

  it('lists users with role and tenants, never a password hash', async () => {
    const flags = database.options.databaseUrl ? ['--database-url', database.options.databaseUrl] : ['--data-dir', database.options.dataDir];
    const { code, stdout } = await run(['list', ...flags], { dataDir: '/nonexistent/never-opened' });
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/^USER\s+ROLE\s+TENANTS\s+CREATED$/);
    expect(rows.map((row) => row.split(/\s+/).slice(0, 3))).toEqual([
      ['alice', 'technician', 'acme,globex'],
      ['bob', 'viewer', 'all'],
    ]);
    expect(stdout).not.toContain('scrypt');
  });

  it('removes a user so its password no longer logs in', async () => {
    const added = await run(['add', 'carol', '--role', 'viewer'], database.options);
    const password = added.stdout.trimEnd().split('\n').at(-1) as string;
    expect(await run(['remove', 'carol'], database.options)).toEqual({ code: 0, stdout: 'removed user carol; its sessions are ended\n', stderr: '' });
    expect(await passwordWorks(database.options, 'carol', password)).toBe(false);
    expect(await run(['remove', 'carol'], database.options)).toEqual({ code: 1, stdout: '', stderr: 'algwatch-server user: no user carol: see `user list`\n' });
  });
});

describe('user command usage', () => {
  const options = { dataDir: '/nonexistent/never-opened' };
  it.each([
    [[], 'missing action: add, list or remove'],
    [['rename', 'x'], 'unknown action rename'],
    [['add', 'x'], 'user add needs --role admin, technician or viewer'],
    [['add', 'x', '--role', 'root'], '--role must be admin, technician or viewer, got root'],
    [['add', '--role', 'viewer'], 'user add needs exactly one user NAME'],
    [['add', 'x', '--role', 'viewer', '--tenants', 'a,,b'], '--tenants takes tenant names separated by commas, got a,,b'],
    [['list', '--role', 'viewer'], '--role is an option of user add only'],
    [['remove', 'x', '--force'], 'unknown option --force'],
    [['list', 'extra'], 'user list takes no arguments, got extra'],
  ])('rejects %j with one line and exit code 2', async (argv, problem) => {
    expect(await run(argv, options)).toEqual({ code: 2, stdout: '', stderr: `algwatch-server user: ${problem}; ${USER_USAGE}\n` });
  });
});

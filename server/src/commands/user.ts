/**
 * `algwatch-server user ...`: manage dashboard logins.
 *
 *   user add NAME --role admin|technician|viewer [--tenants a,b]   create a user, print its password once
 *   user list                                                      one row per user: name, role, tenants
 *   user remove NAME                                               delete a user and end its sessions
 *
 * Every action also takes `--data-dir DIR` and `--database-url URL`, as `site` does. `user add`
 * prints two lines; the last one is the password alone (`tail -n 1`):
 *
 *   created user NAME (technician, tenants acme, globex); the password is shown once, only its hash is kept
 *   PASSWORD
 *
 * Exit codes: 0 done; 1 refused (user exists, unknown user, bad name), message on stderr; 2 bad
 * usage or the database could not be opened, one line on stderr.
 */
import { openRelationalStore } from '../relational/open.js';
import { RelationalError } from '../relational/relational-error.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { UserStore, type UserRecord } from '../auth/user-store.js';
import { isRole, type Role } from '../auth/roles.js';

export const USER_USAGE =
  'usage: user add NAME --role admin|technician|viewer [--tenants A,B] | user list | user remove NAME (each also takes --data-dir DIR, --database-url URL)';

export interface UserCommandOptions {
  dataDir: string;
  databaseUrl?: string;
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
}

interface ParsedUserArgs {
  action: 'add' | 'list' | 'remove';
  name?: string;
  role?: Role;
  tenants?: string[];
  dataDir?: string;
  databaseUrl?: string;
}

/** userCommand runs `user <argv...>` (argv is what follows `user`) and resolves to the exit code. */
export async function userCommand(argv: string[], options: UserCommandOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const parsed = parseUserArgs(argv);
  if (typeof parsed === 'string') {
    stderr.write(`algwatch-server user: ${parsed}; ${USER_USAGE}\n`);
    return 2;
  }
  const dataDir = parsed.dataDir ?? options.dataDir;
  const databaseUrl = parsed.databaseUrl ?? options.databaseUrl;
  let store: RelationalStore;
  try {
    store = await openRelationalStore({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  } catch (error) {
    stderr.write(`algwatch-server user: ${oneLine(error)}\n`);
    return 2;
  }
  const users = new UserStore(store.db);
  try {
    switch (parsed.action) {
      case 'add': {
        const { user, password } = await users.addUser({ name: parsed.name as string, role: parsed.role as Role, ...(parsed.tenants ? { tenants: parsed.tenants } : {}) });
        stdout.write(`created user ${user.name} (${user.role}, ${describeTenants(user)}); the password is shown once, only its hash is kept\n`);
        stdout.write(`${password}\n`);
        return 0;
      }
      case 'list':
        stdout.write(formatUserTable(await users.listUsers()));
        return 0;
      case 'remove':
        await users.removeUser(parsed.name as string);
        stdout.write(`removed user ${parsed.name as string}; its sessions are ended\n`);
        return 0;
    }
  } catch (error) {
    if (error instanceof RelationalError) {
      stderr.write(`algwatch-server user: ${error.message}\n`);
      return 1;
    }
    stderr.write(`algwatch-server user: ${oneLine(error)}\n`);
    return 2;
  } finally {
    await store.close();
  }
}

/** parseUserArgs returns the parsed command, or a one-line description of what is wrong. */
export function parseUserArgs(argv: string[]): ParsedUserArgs | string {
  const [action, ...rest] = argv;
  if (action === undefined) return 'missing action: add, list or remove';
  if (action !== 'add' && action !== 'list' && action !== 'remove') return `unknown action ${action}`;
  const parsed: ParsedUserArgs = { action };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const [flag = '', inline] = arg.split(/=(.*)/s, 2);
    const known = ['--role', '--tenants', '--data-dir', '--database-url'];
    if (!known.includes(flag)) return `unknown option ${arg}`;
    if ((flag === '--role' || flag === '--tenants') && action !== 'add') return `${flag} is an option of user add only`;
    const value = inline ?? rest[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return `${flag} needs a value`;
    if (flag === '--role') {
      if (!isRole(value)) return `--role must be admin, technician or viewer, got ${value}`;
      parsed.role = value;
    } else if (flag === '--tenants') {
      const tenants = value.split(',').map((tenant) => tenant.trim());
      if (tenants.some((tenant) => tenant === '')) return `--tenants takes tenant names separated by commas, got ${value}`;
      parsed.tenants = tenants;
    } else if (flag === '--data-dir') parsed.dataDir = value;
    else parsed.databaseUrl = value;
  }
  if (action === 'list') return positional.length === 0 ? parsed : `user list takes no arguments, got ${positional.join(' ')}`;
  if (positional.length !== 1) return `user ${action} needs exactly one user NAME`;
  parsed.name = positional[0] as string;
  if (action === 'add' && parsed.role === undefined) return 'user add needs --role admin, technician or viewer';
  return parsed;
}

/** formatUserTable renders `user list`: a header and one aligned row per user. */
export function formatUserTable(users: UserRecord[]): string {
  if (users.length === 0) return 'no users yet: add one with `algwatch-server user add NAME --role admin`\n';
  const rows = [['USER', 'ROLE', 'TENANTS', 'CREATED'], ...users.map((u) => [u.name, u.role, u.tenants?.join(',') ?? 'all', u.createdAt])];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

function describeTenants(user: UserRecord): string {
  return user.tenants === null ? 'all tenants' : `tenant${user.tenants.length === 1 ? '' : 's'} ${user.tenants.join(', ')}`;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

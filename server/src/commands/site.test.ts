import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../relational/open.js';
import { runSiteCommand } from './test-site-command.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import { SITE_USAGE, type SiteCommandOptions } from './site.js';


const run = runSiteCommand;

describe.each(TEST_DATABASES)('site command on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let options: Omit<SiteCommandOptions, 'stdout' | 'stderr'>;

  beforeAll(async () => {
    database = await createDatabase();
    options = { ...database.options, serverUrl: 'http://algwatch.example.net:8080' };
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('adds a site and prints the agent command, the install command, and the token alone on the last line', async () => {
    const { code, stdout, stderr } = await run(['add', 'acme-hq', '--tenant', 'acme'], options);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trimEnd().split('\n');
    const token = lines.at(-1) as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(lines).toEqual([
      'created site acme-hq in tenant acme; the token is shown once, only its hash is kept',
      `algwatch-agent run --server http://algwatch.example.net:8080 --token ${token}`,
      `sudo sh install-agent.sh --server http://algwatch.example.net:8080 --token ${token}`,
      token,
    ]);

    const store = await openRelationalStore(database.options);
    try {
      expect((await store.authenticateToken(token))?.name).toBe('acme-hq');
    } finally {
      await store.close();
    }
  });

  it('refuses to add a site twice with exit code 1 and one line', async () => {
    const { code, stdout, stderr } = await run(['add', 'acme-hq', '--tenant=acme'], options);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toBe('algwatch-server site: site acme-hq already exists in tenant acme: pick another name or revoke and re-issue its token\n');
  });

  it('takes the data directory and database URL from flags over the options', async () => {
    const flags = database.options.databaseUrl ? ['--database-url', database.options.databaseUrl] : [`--data-dir=${database.options.dataDir}`];
    const { code, stdout } = await run(['list', ...flags], { dataDir: '/nonexistent/never-opened' });
    expect(code).toBe(0);
    expect(stdout).toContain('acme-hq');
  });

  it('lists sites as a table', async () => {
    await run(['add', 'branch'], options);
    const { code, stdout } = await run(['list'], options);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/^TENANT\s+SITE\s+TOKENS\s+AGENTS\s+LAST SEEN\s+CREATED$/);
    expect(rows.map((row) => row.split(/\s+/).slice(0, 5))).toEqual([
      ['acme', 'acme-hq', '1', '0', 'never'],
      ['default', 'branch', '1', '0', 'never'],
    ]);
  });

  it('revokes a site`s tokens so they no longer authenticate', async () => {
    const added = await run(['add', 'to-revoke'], options);
    const token = added.stdout.trimEnd().split('\n').at(-1) as string;
    expect(await run(['revoke', 'to-revoke'], options)).toEqual({ code: 0, stdout: 'revoked 1 token of site to-revoke in tenant default\n', stderr: '' });
    const store = await openRelationalStore(database.options);
    try {
      expect(await store.authenticateToken(token)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('says which site is unknown with exit code 1', async () => {
    expect(await run(['revoke', 'nowhere'], options)).toEqual({ code: 1, stdout: '', stderr: 'algwatch-server site: no site nowhere: see `site list`\n' });
  });
});

describe('site command usage', () => {
  const options = { dataDir: '/nonexistent/never-opened' };
  it.each([
    [[], 'missing action: add, list or revoke'],
    [['rename', 'x'], 'unknown action rename'],
    [['add'], 'site add needs exactly one site NAME'],
    [['add', 'a', 'b'], 'site add needs exactly one site NAME'],
    [['add', 'a', '--tenant'], '--tenant needs a value'],
    [['list', '--data-dir'], '--data-dir needs a value'],
    [['add', 'a', '--force'], 'unknown option --force'],
    [['list', 'extra'], 'site list takes no arguments, got extra'],
    [['list', '--tenant', 'x'], '--tenant is not an option of site list'],
  ])('rejects %j with one line and exit code 2', async (argv, problem) => {
    expect(await run(argv, options)).toEqual({ code: 2, stdout: '', stderr: `algwatch-server site: ${problem}; ${SITE_USAGE}\n` });
  });

  it('reports a database it cannot open with one line and exit code 2', async () => {
    const { code, stderr } = await run(['list', '--database-url', 'postgres://u:pw@127.0.0.1:1/x'], options);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^algwatch-server site: cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: [^\n]*\n$/);
  });
});

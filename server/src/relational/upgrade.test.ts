/**
 * Forward-only migrations: the current code opens a database made by the previous release (schema
 * 0001..0003, commit b549f5f), migrates it to the latest schema, and everything that release stored
 * is still there and usable, on SQLite and on PostgreSQL. The fixtures in testdata/ were made by
 * that release's own store code (make-release-fixture.ts). A database from a newer release is
 * refused, never "migrated" backwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DEFAULT_SCHEDULE } from '@algwatch/protocol/events';
import { openRelationalStore } from './open.js';
import { relationalMigrations } from './migrations.js';
import { createPostgresTestDatabase, createSqliteTestDatabase, TEST_POSTGRES_URL, type TestDatabase } from './test-databases.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));

/** loadRelease puts the previous release's database into a fresh test database of the dialect; resolves to acme-hq's token. */
async function loadRelease(database: TestDatabase): Promise<string> {
  if (database.dialect === 'sqlite') {
    await cp(join(TESTDATA, 'release-0003/algwatch.db'), join(database.options.dataDir, 'algwatch.db'));
    return (await readFile(join(TESTDATA, 'release-0003/acme-hq.token'), 'utf8')).trim();
  }
  const schema = /search_path%3D(\w+)/.exec(database.options.databaseUrl!)![1]!;
  const dump = (await readFile(join(TESTDATA, 'release-0003.postgres.sql'), 'utf8')).replaceAll('__SCHEMA__', schema);
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(dump);
  } finally {
    await client.end();
  }
  return (await readFile(join(TESTDATA, 'release-0003.postgres.token'), 'utf8')).trim();
}

describe.each([
  ['SQLite', createSqliteTestDatabase],
  ['PostgreSQL', createPostgresTestDatabase],
] as const)('opening the previous release\'s %s database', (_name, createDatabase) => {
  let database: TestDatabase;
  let token: string;

  beforeEach(async () => {
    database = await createDatabase();
    token = await loadRelease(database);
  });
  afterEach(async () => {
    await database?.drop();
  });

  const applied = async () => (await database.query('SELECT name FROM kysely_migration ORDER BY name')).map((row) => row.name);

  it('starts from schema 0001..0003 (the fixture is what that release left)', async () => {
    expect(await applied()).toEqual(['0001_initial', '0002_config_change_stamp', '0003_run_now_requests']);
  });

  it('migrates it to the latest schema and keeps its sites, token, agent, targets, schedule and seen results', async () => {
    const store = await openRelationalStore(database.options);
    try {
      expect(await applied()).toEqual(Object.keys(await relationalMigrations.getMigrations()).sort());
      const sites = await store.listSites();
      expect(sites.map((site) => `${site.tenantName}/${site.name}`).sort()).toEqual(['acme/acme-hq', 'globex/globex-branch']);
      const site = await store.authenticateToken(token);
      expect(site?.name).toBe('acme-hq');
      expect(await store.getAgentConfig(site!.id)).toEqual({
        // The release's own schedule, and the default for the probe that came after it (rtp-path).
        schedule: { ...DEFAULT_SCHEDULE, sipAlg: '*/5 * * * *', stunMapping: '0 */5 * * * *', natBehavior: '0 3 * * *', bindingLifetime: '', keepalive: '* * * * *' },
        targets: [{ name: 'pbx', host: 'pbx.acme.example', port: 5060, transport: 'udp', keepalive: 'options' }],
      });
      expect((await store.listAgents(site!.id)).map((agent) => agent.id)).toEqual(['desk-1']);
      // A result the old release saw is still known as seen: the agent's resend is not stored twice.
      expect(await store.markResultsSeen(site!.id, ['11111111-1111-4111-8111-111111111111'])).toEqual([]);
      // And the upgraded database takes new work.
      expect((await store.createSite('initech-lab', 'initech')).site.name).toBe('initech-lab');
    } finally {
      await store.close();
    }
  });

  it('opens the upgraded database again without running anything', async () => {
    await (await openRelationalStore(database.options)).close();
    const after = await applied();
    await (await openRelationalStore(database.options)).close();
    expect(await applied()).toEqual(after);
  });

  it('refuses, in one line, a database a newer release has migrated further', async () => {
    await (await openRelationalStore(database.options)).close();
    if (database.dialect === 'sqlite') {
      const { default: Database } = await import('better-sqlite3');
      const file = new Database(join(database.options.dataDir, 'algwatch.db'));
      file.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('9999_from_the_future', new Date().toISOString());
      file.close();
    } else {
      await database.query(`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_the_future', '${new Date().toISOString()}')`);
    }
    const opened = openRelationalStore(database.options);
    await expect(opened).rejects.toThrow(/^relational migration setup failed: .*9999_from_the_future[^\n]*$/);
  });
});

/**
 * Forward-only migrations: the current code opens a database made by the previous release (schema
 * 0001..0003, commit b549f5f; testdata/release-0003, made by make-release-fixture.ts with that
 * release's own store code), migrates it to the latest schema, and everything that release stored is
 * still there and usable. A database from a newer release is refused, never "migrated" backwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openRelationalStore } from './open.js';
import { relationalMigrations } from './migrations.js';

const RELEASE_0003 = fileURLToPath(new URL('./testdata/release-0003/', import.meta.url));

let dataDir: string;

beforeEach(async () => {
  // A copy: the fixture itself must stay at the old schema for the next run.
  dataDir = await mkdtemp(join(tmpdir(), 'algwatch-upgrade-'));
  await cp(join(RELEASE_0003, 'algwatch.db'), join(dataDir, 'algwatch.db'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function appliedMigrations(): string[] {
  const database = new Database(join(dataDir, 'algwatch.db'), { readonly: true });
  try {
    return (database.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((row) => row.name);
  } finally {
    database.close();
  }
}

describe('opening the previous release\'s database', () => {
  it('starts from schema 0001..0003 (the fixture is what that release left)', () => {
    expect(appliedMigrations()).toEqual(['0001_initial', '0002_config_change_stamp', '0003_run_now_requests']);
  });

  it('migrates it to the latest schema and keeps its sites, token, agent, targets and schedule', async () => {
    const store = await openRelationalStore({ dataDir });
    try {
      expect(appliedMigrations()).toEqual(Object.keys(await relationalMigrations.getMigrations()).sort());
      const sites = await store.listSites();
      expect(sites.map((site) => `${site.tenantName}/${site.name}`).sort()).toEqual(['acme/acme-hq', 'globex/globex-branch']);
      const token = (await readFile(join(RELEASE_0003, 'acme-hq.token'), 'utf8')).trim();
      const site = await store.authenticateToken(token);
      expect(site?.name).toBe('acme-hq');
      expect(await store.getAgentConfig(site!.id)).toEqual({
        schedule: { sipAlg: '*/5 * * * *', stunMapping: '0 */5 * * * *', natBehavior: '0 3 * * *', bindingLifetime: '', keepalive: '* * * * *' },
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
    await (await openRelationalStore({ dataDir })).close();
    const after = appliedMigrations();
    await (await openRelationalStore({ dataDir })).close();
    expect(appliedMigrations()).toEqual(after);
  });

  it('refuses, in one line, a database a newer release has migrated further', async () => {
    await (await openRelationalStore({ dataDir })).close();
    const database = new Database(join(dataDir, 'algwatch.db'));
    database.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('9999_from_the_future', new Date().toISOString());
    database.close();
    const opened = openRelationalStore({ dataDir });
    await expect(opened).rejects.toThrow(/^relational migration setup failed: .*9999_from_the_future/);
    await expect(opened).rejects.toThrow(/^[^\n]*$/);
  });
});

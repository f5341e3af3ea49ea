import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import type { Viewer } from '../auth/roles.js';
import { AGENT_ONLINE_WITHIN_MS, SiteDirectory } from './site-directory.js';

const admin: Viewer = { userId: 'a', name: 'root', role: 'admin', tenants: null };
const acmeTech: Viewer = { userId: 't', name: 'tech', role: 'technician', tenants: ['acme'] };

describe.each(TEST_DATABASES)('site directory on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let store: RelationalStore;
  let directory: SiteDirectory;
  let globexSiteId: string;

  beforeAll(async () => {
    database = await createDatabase();
    store = await openRelationalStore(database.options);
    directory = new SiteDirectory(store.db);
    const { site } = await store.createSite('hq', 'acme');
    await store.createSite('branch', 'acme');
    globexSiteId = (await store.createSite('hq', 'globex')).site.id;
    await store.recordAgentHello(site.id, { agentId: 'desk-1', hostname: 'desk-1', version: '0.1.0' });
    await store.recordAgentHello(site.id, { agentId: 'desk-2', hostname: 'desk-2', version: '0.1.0' });
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('lists every tenant`s sites to an admin, with agents online and in total', async () => {
    const sites = await directory.visibleSites(admin);
    expect(sites.map((s) => [s.tenant, s.site, s.agentsOnline, s.agentsTotal])).toEqual([
      ['acme', 'branch', 0, 0],
      ['acme', 'hq', 2, 2],
      ['globex', 'hq', 0, 0],
    ]);
  });

  it('counts an agent silent for longer than the online window as offline', async () => {
    const later = Date.now() + AGENT_ONLINE_WITHIN_MS + 1000;
    const hq = (await directory.visibleSites(admin, later)).find((s) => s.tenant === 'acme' && s.site === 'hq');
    expect(hq).toMatchObject({ agentsOnline: 0, agentsTotal: 2 });
  });

  it('shows a tenant-limited user only their tenants` sites, and no other tenant`s site by id', async () => {
    expect((await directory.visibleSites(acmeTech)).map((s) => s.tenant)).toEqual(['acme', 'acme']);
    expect(await directory.visibleSite(acmeTech, globexSiteId)).toBeNull();
    expect(await directory.visibleSite(admin, globexSiteId)).toMatchObject({ tenant: 'globex', site: 'hq' });
  });
});

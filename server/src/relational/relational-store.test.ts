import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE, type SipTarget } from '@algwatch/protocol/events';
import { hashAgentToken } from './agent-token.js';
import { openRelationalStore } from './open.js';
import { RelationalError } from './relational-error.js';
import type { RelationalStore } from './relational-store.js';
import { TEST_DATABASES, type TestDatabase } from './test-databases.js';

describe.each(TEST_DATABASES)('relational store on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let store: RelationalStore;

  beforeAll(async () => {
    database = await createDatabase();
    store = await openRelationalStore(database.options);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('opens the dialect the options ask for', () => {
    expect(store.dialect).toBe(database.dialect);
  });

  it('creates a site whose token authenticates as that site and is stored only as its hash', async () => {
    const { site, token } = await store.createSite('acme-hq', 'acme');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(site).toMatchObject({ name: 'acme-hq', tenantName: 'acme' });
    expect(await store.authenticateToken(token)).toEqual(site);

    const rows = await database.query(`select token_hash from agent_tokens where site_id = '${site.id}'`);
    expect(rows).toEqual([{ token_hash: hashAgentToken(token) }]);
    const everything = JSON.stringify(await database.query('select * from agent_tokens'));
    expect(everything).not.toContain(token);
  });

  it('puts a site without a tenant into the default tenant', async () => {
    const { site } = await store.createSite('solo');
    expect(site.tenantName).toBe('default');
  });

  it('refuses a second site of the same name in one tenant but allows it in another', async () => {
    await store.createSite('branch-1', 'north');
    await expect(store.createSite('branch-1', 'north')).rejects.toThrow('site branch-1 already exists in tenant north');
    const other = await store.createSite('branch-1', 'south');
    expect(other.site.tenantName).toBe('south');
  });

  it('asks for --tenant when a site name exists in several tenants', async () => {
    await expect(store.findSite('branch-1')).rejects.toThrow('site branch-1 exists in tenants north, south: pass --tenant');
    expect((await store.findSite('branch-1', 'south')).tenantName).toBe('south');
  });

  it('rejects names that cannot be tags or arguments', async () => {
    const error = await store.createSite('bad name; drop', 'acme').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelationalError);
    expect((error as RelationalError).code).toBe('INVALID_NAME');
  });

  it('refuses an unknown token and a revoked one, and a re-issued token works again', async () => {
    const { site, token } = await store.createSite('revoke-me', 'acme');
    expect(await store.authenticateToken('x'.repeat(43))).toBeNull();
    const { revoked } = await store.revokeSiteTokens('revoke-me', 'acme');
    expect(revoked).toBe(1);
    expect(await store.authenticateToken(token)).toBeNull();

    const reissued = await store.issueSiteToken(site.id);
    expect((await store.authenticateToken(reissued.token))?.id).toBe(site.id);
    expect(await store.authenticateToken(token)).toBeNull();
  });

  it('reports an unknown site by name', async () => {
    await expect(store.revokeSiteTokens('nowhere')).rejects.toThrow('no site nowhere: see `site list`');
  });

  it('marks result ids seen once: a resend and concurrent deliveries return each id as new only once', async () => {
    const { site } = await store.createSite('dedup', 'acme');
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    expect(await store.markResultsSeen(site.id, ids.slice(0, 2))).toEqual(ids.slice(0, 2));
    expect(await store.unseenResultIds(site.id, ids)).toEqual([ids[2]]);

    const [first, second] = await Promise.all([store.markResultsSeen(site.id, ids), store.markResultsSeen(site.id, ids)]);
    expect([...first, ...second]).toEqual([ids[2]]);
  });

  it('keeps seen result ids per site, so one site cannot pre-empt another site`s results', async () => {
    const a = await store.createSite('seen-a', 'acme');
    const b = await store.createSite('seen-b', 'acme');
    const id = randomUUID();
    expect(await store.markResultsSeen(a.site.id, [id])).toEqual([id]);
    expect(await store.markResultsSeen(b.site.id, [id])).toEqual([id]);
  });

  it('forgets seen ids older than the prune horizon', async () => {
    const { site } = await store.createSite('prune', 'acme');
    const id = randomUUID();
    await store.markResultsSeen(site.id, [id]);
    expect(await store.pruneSeenResults(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
    expect(await store.unseenResultIds(site.id, [id])).toEqual([id]);
  });

  it('records agents from hello and heartbeat and counts them in the site list', async () => {
    const { site } = await store.createSite('agents', 'acme');
    await store.recordAgentHello(site.id, { agentId: 'pbx-box', hostname: 'pbx-box.local', version: '0.1.0' });
    await store.recordHeartbeat(site.id, 'pbx-box', { at: 1, outboxDepth: 3, rssBytes: 1000, uptimeS: 5 });
    await store.recordAgentHello(site.id, { agentId: 'pbx-box', hostname: 'pbx-box.local', version: '0.2.0' });

    const [agent] = await store.listAgents(site.id);
    expect(agent).toMatchObject({ id: 'pbx-box', hostname: 'pbx-box.local', version: '0.2.0' });
    expect(agent?.lastHeartbeat).toEqual({ at: 1, outboxDepth: 3, rssBytes: 1000, uptimeS: 5 });

    const summary = (await store.listSites()).find((s) => s.id === site.id);
    expect(summary).toMatchObject({ activeTokens: 1, agents: 1, lastSeenAt: agent?.lastSeenAt });
  });

  it('lists sites ordered by tenant then name', async () => {
    const names = (await store.listSites()).map((s) => `${s.tenantName}/${s.name}`);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('acme/acme-hq');
  });

  it('gives a new site the default schedule and no targets, then what was set', async () => {
    const { site } = await store.createSite('configured', 'acme');
    expect(await store.getAgentConfig(site.id)).toEqual({ schedule: DEFAULT_SCHEDULE, targets: [] });

    const targets: SipTarget[] = [
      { name: 'pbx', host: '203.0.113.10', port: 5060, transport: 'udp', keepalive: 'both' },
      { name: 'trunk', host: 'sip.example.net', port: 5061, transport: 'tls', keepalive: 'options' },
    ];
    await store.setSiteTargets(site.id, targets);
    await store.setSiteTargets(site.id, targets.slice(1));
    await store.setSiteSchedule(site.id, { ...DEFAULT_SCHEDULE, sipAlg: '' });
    expect(await store.getAgentConfig(site.id)).toEqual({ schedule: { ...DEFAULT_SCHEDULE, sipAlg: '' }, targets: targets.slice(1) });
  });

  it('keeps its data and schema when opened again (migrations run once)', async () => {
    const again = await openRelationalStore(database.options);
    try {
      expect((await again.findSite('acme-hq', 'acme')).name).toBe('acme-hq');
    } finally {
      await again.close();
    }
  });
});

describe('openRelationalStore', () => {
  it('refuses a database URL that is not PostgreSQL', async () => {
    await expect(openRelationalStore({ dataDir: '/nonexistent', databaseUrl: 'mysql://root:secret@127.0.0.1/x' })).rejects.toThrow(
      'unsupported --database-url mysql://root:***@127.0.0.1/x: use postgres://user@host:5432/database, or leave it out for SQLite',
    );
  });

  it('says in one line when PostgreSQL cannot be reached, without the password', async () => {
    const error = await openRelationalStore({ dataDir: '/nonexistent', databaseUrl: 'postgres://u:secret@127.0.0.1:1/x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelationalError);
    expect((error as RelationalError).code).toBe('DATABASE_UNREACHABLE');
    expect((error as Error).message).toMatch(/^cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: .*ECONNREFUSED/);
  });
});

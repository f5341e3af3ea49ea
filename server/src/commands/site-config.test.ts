import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE } from '@algwatch/protocol/events';
import { openRelationalStore } from '../relational/open.js';
import { runSiteCommand } from './test-site-command.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import type { SiteCommandOptions } from './site.js';
import { describeAgent } from './site-config.js';

const run = runSiteCommand;

describe.each(TEST_DATABASES)('site target, schedule and show on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let options: Omit<SiteCommandOptions, 'stdout' | 'stderr'>;

  beforeAll(async () => {
    database = await createDatabase();
    options = database.options;
    expect((await run(['add', 'branch-1', '--tenant', 'acme'], options)).code).toBe(0);
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function agentConfig() {
    const store = await openRelationalStore(options);
    try {
      const site = await store.findSite('branch-1');
      return { config: await store.getAgentConfig(site.id), changed: await store.sitesWithConfigChangedSince('1970-01-01T00:00:00Z') };
    } finally {
      await store.close();
    }
  }

  it('adds keep-alive targets with transport-aware default ports and keep-alive kinds', async () => {
    expect((await run(['target', 'add', 'branch-1', 'pbx', '198.51.100.50'], options)).code).toBe(0);
    expect((await run(['target', 'add', 'branch-1', 'trunk', 'trunk.example.net', '--transport', 'tls'], options)).code).toBe(0);
    const { config, changed } = await agentConfig();
    expect(config.targets).toEqual([
      { name: 'pbx', host: '198.51.100.50', port: 5060, transport: 'udp', keepalive: 'options' },
      { name: 'trunk', host: 'trunk.example.net', port: 5061, transport: 'tls', keepalive: 'both' },
    ]);
    expect(changed).toHaveLength(1); // the change is stamped so running servers push it
  });

  it('replaces a target of the same name and removes one by name', async () => {
    expect((await run(['target', 'add', 'branch-1', 'pbx', '198.51.100.51:5070', '--transport', 'tcp', '--keepalive', 'crlf'], options)).code).toBe(0);
    expect((await run(['target', 'remove', 'branch-1', 'trunk'], options)).code).toBe(0);
    expect((await agentConfig()).config.targets).toEqual([{ name: 'pbx', host: '198.51.100.51', port: 5070, transport: 'tcp', keepalive: 'crlf' }]);
    const missing = await run(['target', 'remove', 'branch-1', 'trunk'], options);
    expect(missing, missing.stderr).toMatchObject({ code: 1, stderr: 'algwatch-server site: site branch-1 has no target named trunk\n' });
  });

  it('changes only the schedule slots given, and "" turns a probe off', async () => {
    const result = await run(['schedule', 'branch-1', '--sip-alg', '*/2 * * * *', '--binding-lifetime', ''], options);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('binding-lifetime off');
    expect((await agentConfig()).config.schedule).toEqual({ ...DEFAULT_SCHEDULE, sipAlg: '*/2 * * * *', bindingLifetime: '' });
  });

  it('turns the rtp-path test call off or sets its schedule', async () => {
    expect((await run(['schedule', 'branch-1', '--rtp-path', ''], options)).stdout).toMatch(/rtp-path +off/);
    expect((await agentConfig()).config.schedule.rtpPath).toBe('');
    expect((await run(['schedule', 'branch-1', '--rtp-path', '*/15 * * * *'], options)).code).toBe(0);
    expect((await agentConfig()).config.schedule.rtpPath).toBe('*/15 * * * *');
  });

  it('refuses a bad cron expression, CRLF over UDP and an unknown site, one line each', async () => {
    const badCron = await run(['schedule', 'branch-1', '--stun-mapping', 'every minute'], options);
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toMatch(/^algwatch-server site: --stun-mapping "every minute" is not a cron expression/);
    const crlfOverUdp = await run(['target', 'add', 'branch-1', 'x', '198.51.100.9', '--keepalive', 'crlf'], options);
    expect(crlfOverUdp.code).toBe(2);
    expect(crlfOverUdp.stderr).toMatch(/^algwatch-server site: CRLF keep-alives need --transport tcp or tls;/);
    const unknown = await run(['show', 'nowhere'], options);
    expect(unknown).toMatchObject({ code: 1, stderr: 'algwatch-server site: no site nowhere: see `site list`\n' });
  });

  it('records a run-now request with the quick probes by default, and refuses an unknown probe', async () => {
    expect((await run(['run-now', 'branch-1'], options)).stdout).toBe(
      'site branch-1: asked its connected agents to run sip-alg, stun-mapping, nat-behavior now (within ~5 s)\n',
    );
    const store = await openRelationalStore(options);
    const requests = await store.runNowRequestsSince('1970-01-01T00:00:00Z');
    await store.close();
    expect(requests.map((request) => request.probes)).toEqual([['sip-alg', 'stun-mapping', 'nat-behavior']]);
    const unknown = await run(['run-now', 'branch-1', '--probes', 'sip-alg,ping'], options);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^algwatch-server site: unknown probe ping; known: sip-alg, stun-mapping/);
  });

  it('shows the schedule and targets', async () => {
    const { code, stdout } = await run(['show', 'branch-1'], options);
    expect(code).toBe(0);
    expect(stdout).toContain('site branch-1 (tenant acme)');
    expect(stdout).toContain('sip-alg          */2 * * * *');
    expect(stdout).toContain('pbx 198.51.100.51:5070/tcp (keep-alive: crlf)');
    expect(stdout).toContain('agents:\n  none has connected yet\n');
  });
});

describe('describeAgent', () => {
  it('says when the agent was last heard of, and its outbox and memory from the last heartbeat', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    const agent = {
      id: 'pbx-box',
      siteId: 'site-1',
      hostname: 'frontdesk',
      version: '0.1.0',
      lastSeenAt: '2026-11-26T09:59:35Z',
      lastHeartbeat: { at: now - 25_000, outboxDepth: 1, rssBytes: 52_800_000, uptimeS: 3 * 86_400 },
    };
    expect(describeAgent(agent, now)).toBe('pbx-box, v0.1.0, on frontdesk, last seen 25 s ago, outbox 1 result, RSS 53 MB, up 3 d');
    expect(describeAgent({ ...agent, lastSeenAt: '2026-11-26T07:00:00Z', lastHeartbeat: null }, now)).toBe('pbx-box, v0.1.0, on frontdesk, last seen 3 h ago');
  });
});

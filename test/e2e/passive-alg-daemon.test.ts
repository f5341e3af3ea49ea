/**
 * Passive ALG detection in the product: the real agent daemon in the lan namespace, behind the
 * kernel's SIP ALG, sends its scheduled OPTIONS keep-alive to the site's own PBX (a real Kamailio in
 * the wan) and judges the answer against its own latest STUN mapping; the real server stores the
 * result, and its dashboard (logged in, as a technician would) shows "SIP ALG on the path to pbx".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRelationalStore } from '../../server/src/relational/open.js';
import { runCommand, type ManagedProcess } from '../helpers/process.js';
import { startKamailio, type RunningKamailio } from '../testbed/kamailio.js';
import { requireNetns } from '../testbed/netns-gate.js';
import { TESTBED_ADDRESSES as A, TESTBED_INTERFACES, useTopology } from '../testbed/topology.js';
import { fleetProblemsOf } from '../helpers/namespace-dashboard.js';
import { assertBuilt } from './algwatch-processes.js';

const netns = requireNetns();
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = join(REPO, 'server/bin/algwatch-server.js');
const AGENT_BIN = join(REPO, 'agent/bin/algwatch-agent.js');
const PBX = '203.0.113.20';

describe.runIf(netns)('the agent daemon flags the SIP ALG on the path to the site PBX from its keep-alives', () => {
  const topology = useTopology({ sipAlg: true });
  let serverDataDir = '';
  let agentDataDir = '';
  let server: ManagedProcess | undefined;
  let agent: ManagedProcess | undefined;
  let pbx: RunningKamailio | undefined;
  let password = '';

  beforeAll(async () => {
    assertBuilt();
    const added = await topology().exec('wan', 'ip', ['addr', 'add', `${PBX}/24`, 'dev', TESTBED_INTERFACES.wan]);
    expect(added.code, added.stderr).toBe(0);
    pbx = await startKamailio(topology(), 'wan', PBX);
    serverDataDir = await mkdtemp(join(tmpdir(), 'algwatch-passive-server-'));
    agentDataDir = await mkdtemp(join(tmpdir(), 'algwatch-passive-agent-'));
    const store = await openRelationalStore({ dataDir: serverDataDir });
    const created = await store.createSite('branch', 'acme');
    await store.setSiteTargets(created.site.id, [{ name: 'pbx', host: PBX, port: 5060, transport: 'udp', keepalive: 'options' }]);
    // STUN and keep-alives every 5 s (node-cron's seconds field); nothing else.
    await store.setSiteSchedule(created.site.id, { sipAlg: '', stunMapping: '*/5 * * * * *', natBehavior: '', bindingLifetime: '', keepalive: '*/5 * * * * *', rtpPath: '' });
    await store.close();
    const user = await runCommand(process.execPath, [SERVER_BIN, 'user', 'add', 'tech', '--role', 'technician', '--tenants', 'acme', '--data-dir', serverDataDir]);
    expect(user.code, user.stderr).toBe(0);
    password = user.stdout.trim().split('\n').at(-1)!;
    server = topology().spawn('wan', process.execPath, [SERVER_BIN, '--bind', A.server, '--alt-address', A.serverAlt, '--data-dir', serverDataDir]);
    await server.waitForOutput(/algwatch server listening/, 20_000);
    agent = topology().spawn('lan', process.execPath, [AGENT_BIN, 'run', '--server', `http://${A.server}:8080`, '--data-dir', agentDataDir], {
      env: { ...process.env, ALGWATCH_TOKEN: created.token },
    });
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    await pbx?.stop();
    await Promise.all([serverDataDir, agentDataDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('shows the finding naming the PBX and both addresses on the dashboard', async () => {
    const problems = await fleetProblemsOf(topology(), {
      namespace: 'wan', base: `http://${A.server}:8080`, cookieJar: join(serverDataDir, 'cookies.txt'),
      username: 'tech', password, site: 'branch', awaited: 'SIP ALG on the path to', timeoutMs: 45_000,
    });
    const finding = problems.find((problem) => problem.includes('SIP ALG on the path to')) ?? problems.join('\n');
    expect(finding).toContain('SIP ALG on the path to pbx (UDP)');
    expect(finding).toContain(`Via received=${A.agent}`);
    expect(finding).toContain(`STUN sees ${A.routerWan}`);
  }, 60_000);
});

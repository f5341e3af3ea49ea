/**
 * The rtp-path probe in the product: the real agent daemon in the lan namespace, behind plain
 * masquerade, runs it on the schedule the server hands out; the real server stores the result, and
 * its dashboard (logged in, as a technician would) shows the catalogue's finding (one-way audio unless
 * the far end latches, with the private SDP address named).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRelationalStore } from '../../server/src/relational/open.js';
import { runCommand, type ManagedProcess } from '../helpers/process.js';
import { requireNetns } from '../testbed/netns-gate.js';
import { TESTBED_ADDRESSES as A, useTopology } from '../testbed/topology.js';
import { fleetProblemsOf } from '../helpers/namespace-dashboard.js';
import { assertBuilt } from './algwatch-processes.js';

const netns = requireNetns();
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = join(REPO, 'server/bin/algwatch-server.js');
const AGENT_BIN = join(REPO, 'agent/bin/algwatch-agent.js');

describe.runIf(netns)('the agent daemon runs rtp-path on its schedule through plain masquerade', () => {
  const topology = useTopology({});
  let serverDataDir = '';
  let agentDataDir = '';
  let server: ManagedProcess | undefined;
  let agent: ManagedProcess | undefined;
  let password = '';

  beforeAll(async () => {
    assertBuilt();
    serverDataDir = await mkdtemp(join(tmpdir(), 'algwatch-rtp-server-'));
    agentDataDir = await mkdtemp(join(tmpdir(), 'algwatch-rtp-agent-'));
    const store = await openRelationalStore({ dataDir: serverDataDir });
    const created = await store.createSite('branch', 'acme');
    // Only the test call, every 10 s (node-cron's seconds field).
    await store.setSiteSchedule(created.site.id, { sipAlg: '', stunMapping: '', natBehavior: '', bindingLifetime: '', keepalive: '', rtpPath: '*/10 * * * * *' });
    await store.close();
    const added = await runCommand(process.execPath, [SERVER_BIN, 'user', 'add', 'tech', '--role', 'technician', '--tenants', 'acme', '--data-dir', serverDataDir]);
    expect(added.code, added.stderr).toBe(0);
    password = added.stdout.trim().split('\n').at(-1)!;
    server = topology().spawn('wan', process.execPath, [SERVER_BIN, '--bind', A.server, '--alt-address', A.serverAlt, '--data-dir', serverDataDir]);
    await server.waitForOutput(/algwatch server listening/, 20_000);
    agent = topology().spawn('lan', process.execPath, [AGENT_BIN, 'run', '--server', `http://${A.server}:8080`, '--data-dir', agentDataDir], {
      env: { ...process.env, ALGWATCH_TOKEN: created.token },
    });
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    await Promise.all([serverDataDir, agentDataDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('shows the one-way finding with its cause on the dashboard', async () => {
    const problems = await fleetProblemsOf(topology(), {
      namespace: 'wan', base: `http://${A.server}:8080`, cookieJar: join(serverDataDir, 'cookies.txt'),
      username: 'tech', password, site: 'branch', awaited: 'the SDP carries', timeoutMs: 45_000,
    });
    expect(problems.join('\n')).toContain(`the SDP carries ${A.agent} but media comes from ${A.routerWan}`);
  }, 60_000);
});

/**
 * The fleet pipeline end to end: the real agent daemon in a lan namespace behind a router running
 * the kernel SIP ALG, the real server in the wan namespace writing to a real influxd. Within one
 * schedule cycle InfluxDB holds the site's ALG-detected result and its STUN mapping; then the
 * server, the agent and InfluxDB are each killed and brought back, and every result the agent
 * produced is in InfluxDB exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { openRelationalStore } from '../../server/src/relational/open.js';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.js';
import type { ManagedProcess } from '../helpers/process.js';
import { requireNetns } from '../testbed/netns-gate.js';
import { TESTBED_ADDRESSES as A, useTopology } from '../testbed/topology.js';
import { assertBuilt } from './algwatch-processes.js';

const netns = requireNetns();
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = join(REPO, 'server/bin/algwatch-server.js');
const AGENT_BIN = join(REPO, 'agent/bin/algwatch-agent.js');
const FORWARDER = join(REPO, 'test/testbed/peers/tcp-to-unix.mjs');
const INFLUX_PORT_IN_WAN = 8086;
const DATABASE = 'algwatch';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(500);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

interface ProducedResult {
  id: string;
  startedAt: number;
  measurements: string[];
}

/** producedResults reads the agent's debug log lines: one per result made durable in its outbox. */
function producedResults(outputs: string[]): ProducedResult[] {
  const results: ProducedResult[] = [];
  for (const line of outputs.join('\n').split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Partial<ProducedResult>;
    if (typeof entry.id === 'string' && Array.isArray(entry.measurements)) results.push(entry as ProducedResult);
  }
  return results;
}

describe.runIf(netns)('agent daemon to InfluxDB through a router with the kernel SIP ALG', () => {
  const topology = useTopology({ sipAlg: true });
  let influxd: RunningInfluxd;
  let influx: InfluxDB;
  let serverDataDir: string;
  let agentDataDir: string;
  let token: string;
  let server: ManagedProcess | undefined;
  let agent: ManagedProcess | undefined;
  const agentOutputs: string[] = [];

  const startServer = async () => {
    server = topology().spawn('wan', process.execPath, [
      SERVER_BIN, '--bind', A.server, '--alt-address', A.serverAlt, '--data-dir', serverDataDir,
      '--influx-url', `http://127.0.0.1:${INFLUX_PORT_IN_WAN}/${DATABASE}`,
    ]);
    await server.waitForOutput(/algwatch server listening/, 20_000);
  };
  const startAgent = () => {
    agent = topology().spawn('lan', process.execPath, [AGENT_BIN, 'run', '--server', `http://${A.server}:8080`, '--data-dir', agentDataDir, '--debug'], {
      env: { ...process.env, ALGWATCH_TOKEN: token },
    });
  };
  const kill = async (child: ManagedProcess | undefined) => {
    if (child?.pid) process.kill(child.pid, 'SIGKILL');
    await child?.exited;
  };

  beforeAll(async () => {
    assertBuilt();
    influxd = await startInfluxd();
    influx = new InfluxDB(`${influxd.url}/${DATABASE}`);
    topology().spawn('wan', process.execPath, [FORWARDER, String(INFLUX_PORT_IN_WAN), influxd.socketPath]);
    serverDataDir = await mkdtemp(join(tmpdir(), 'algwatch-fleet-server-'));
    agentDataDir = await mkdtemp(join(tmpdir(), 'algwatch-fleet-agent-'));
    // Enroll the site the way `algwatch-server site add` does, with a schedule fast enough for a test.
    const store = await openRelationalStore({ dataDir: serverDataDir });
    const created = await store.createSite('lab', 'acme');
    token = created.token;
    await store.setSiteSchedule(created.site.id, {
      sipAlg: '*/4 * * * * *',
      stunMapping: '*/2 * * * * *',
      natBehavior: '',
      bindingLifetime: '',
      keepalive: '',
      rtpPath: '',
    });
    await store.close();
    await startServer();
    startAgent();
  }, 90_000);

  afterAll(async () => {
        await agent?.stop();
    await server?.stop();
    await influxd?.stop();
    await Promise.all([serverDataDir, agentDataDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('stores the ALG-detected result with the rewritten fields, and the STUN mapping, within one cycle', async () => {
    const rows = await eventually('a sip_alg point over UDP in InfluxDB', 30_000, async () => {
      const found = await influx.query<{ alg_detected: boolean; rewritten_fields: string; site: string; tenant: string }>(
        `SELECT * FROM sip_alg WHERE transport = 'udp'`,
      );
      return found.length > 0 ? found : undefined;
    });
    expect(rows[0]).toMatchObject({ alg_detected: true, site: 'lab', tenant: 'acme' });
    expect(rows[0]!.rewritten_fields).toMatch(/Via/);
    expect(rows[0]!.rewritten_fields).toMatch(/Contact/);
    const stun = await eventually('a stun_mapping point', 10_000, async () => {
      const found = await influx.query<{ public_address: string; nat_present: boolean }>('SELECT * FROM stun_mapping');
      return found.length > 0 ? found : undefined;
    });
    expect(stun[0]).toMatchObject({ public_address: A.routerWan, nat_present: true });
  }, 60_000);

  it('keeps every result exactly once through a server crash, an agent crash and an InfluxDB outage', async () => {
    await kill(server); // the agent keeps probing into its outbox meanwhile
    await sleep(6_000);
    await startServer();
    await sleep(3_000);

    agentOutputs.push(agent!.stderr());
    await kill(agent);
    await sleep(2_000);
    startAgent();
    await sleep(5_000);

    await influxd.kill(); // the server spools to disk and keeps acknowledging
    await sleep(6_000);
    await influxd.start();
    await sleep(3_000);

    // Stop producing: the schedule change reaches the running agent through the server.
    const store = await openRelationalStore({ dataDir: serverDataDir });
    const site = await store.findSite('lab');
    await store.setSiteSchedule(site.id, { sipAlg: '', stunMapping: '', natBehavior: '', bindingLifetime: '', keepalive: '', rtpPath: '' });
    await store.close();
    // Servers poll for config changes every 5 s; then let runs already under way finish.
    await sleep(10_000);

    // The agent logs one JSON line per event on stderr.
    const produced = producedResults([...agentOutputs, agent!.stderr()]);
    const expected = new Map<string, number>();
    for (const result of produced) for (const measurement of result.measurements) expected.set(measurement, (expected.get(measurement) ?? 0) + 1);
    // While the server was down STUN got no answer (no stun_mapping point); SIP ALG results say "blocked".
    expect(expected.get('sip_alg') ?? 0).toBeGreaterThan(6);
    expect(expected.get('stun_mapping') ?? 0).toBeGreaterThan(6);
    // Ingest writes one probe_run point per result, the failed ones included: it counts results.
    expect(produced.length).toBeGreaterThan(expected.get('stun_mapping')!);
    expected.set('probe_run', produced.length);

    const stored = await eventually('InfluxDB to hold every produced result', 60_000, async () => {
      const counts = new Map<string, number>();
      for (const measurement of expected.keys()) {
        const rows = await influx.query(`SELECT * FROM ${measurement}`);
        counts.set(measurement, rows.length);
      }
      return [...expected].every(([measurement, count]) => counts.get(measurement) === count) ? counts : undefined;
    }).catch(async (err: Error) => {
      const counts: Record<string, number> = {};
      for (const measurement of expected.keys()) counts[measurement] = (await influx.query(`SELECT * FROM ${measurement}`)).length;
      throw new Error(`${err.message}: produced ${JSON.stringify(Object.fromEntries(expected))}, stored ${JSON.stringify(counts)}`);
    });
    expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(expected));
    // The STUN runs that got no answer while the server was down are there as failed runs.
    const failedStun = await influx.query(`SELECT * FROM probe_run WHERE probe = 'stun-mapping' AND success = false`);
    expect(failedStun.length).toBeGreaterThan(0);
  }, 180_000);
});

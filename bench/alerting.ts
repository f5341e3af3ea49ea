/**
 * `npm run bench -- alerting`: the alert engine on the real server (its own process, SQLite
 * relational store, a throw-away influxd):
 * - ingest throughput with alerting on vs off, the same flood against a fresh server each, in the
 *   same run (goal: on ≥ 0.9 × off);
 * - result stored → webhook request received, with 10,000 connected agents sending the default
 *   schedule's results and group wait 0: one site at a time gets a SIP ALG result, and a webhook
 *   receiver on loopback times the message (goal p99 < 200 ms). Measured from the emit of the
 *   results batch (which includes storing it) and from its ack (sent once the result is stored).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, type AgentToServerEvents, type ServerToAgentEvents } from '@algwatch/protocol/events';
import { sipAlgResult } from '../server/src/alerting/test-results.js';
import type { BenchFigure } from './figures.js';
import { FleetProcess } from './fleet-process.js';
import { FLEET } from './ingest-fleet.js';
import { percentile, startIngestRig, type IngestRig } from './ingest-rig.js';
import { measureThroughput } from './ingest-throughput.js';

const SAMPLES = { sites: 100, spacingMs: 300 } as const;
/**
 * Logins in flight at once from this host: the server closes unauthenticated connections past 20
 * per address (all simulated agents come from 127.0.0.1), so stay under it across fleet processes.
 */
const CONNECT_CONCURRENCY = 18;

export async function benchAlerting(): Promise<BenchFigure[]> {
  const rig = await startIngestRig();
  try {
    // Off, on, on, off: drift of the shared machine (other processes, influxd's growing database)
    // falls on both sides alike; each side's figure is the mean of its two runs.
    const runs: Array<{ alerting: boolean; run: Awaited<ReturnType<typeof measureThroughput>> }> = [];
    for (const [round, alerting] of [false, true, true, false].entries()) {
      const run = await measureThroughput(rig, {
        tenant: `bench-alerting-${round}`,
        serverArgs: alerting ? [] : ['--no-alerting'],
        skipDirect: true,
        connectConcurrency: CONNECT_CONCURRENCY,
      });
      runs.push({ alerting, run });
    }
    const mean = (alerting: boolean, figure: (run: Awaited<ReturnType<typeof measureThroughput>>) => number) => {
      const values = runs.filter((r) => r.alerting === alerting).map((r) => figure(r.run));
      return values.reduce((sum, v) => sum + v, 0) / values.length;
    };
    const on = { resultsPerSecond: mean(true, (r) => r.resultsPerSecond), serverCpu: mean(true, (r) => r.usage.serverCpu) };
    const off = { resultsPerSecond: mean(false, (r) => r.resultsPerSecond), serverCpu: mean(false, (r) => r.usage.serverCpu) };
    const latency = await measureLatency(rig).catch((err: Error) => {
      // The throughput figures stand on their own; say why the latency ones are missing.
      process.stdout.write(`alerting: the latency phase could not run: ${err.message}\n`);
      return undefined;
    });
    const throughput: BenchFigure[] = [
      {
        name: 'results/s ingested end to end with alerting on (flood of sip-alg and stun-mapping results; mean of 2 runs, order off-on-on-off)',
        value: on.resultsPerSecond,
        unit: '/s',
        baseline: off.resultsPerSecond,
        baselineName: 'alerting off, same flood, same run',
        goal: '≥ 0.9 × off',
        met: on.resultsPerSecond >= 0.9 * off.resultsPerSecond,
      },
      { name: 'server CPU during the flood, alerting on', value: on.serverCpu * 100, unit: '% of a core', baseline: off.serverCpu * 100, baselineName: 'alerting off' },
      { name: 'results per server CPU-second, alerting on', value: on.resultsPerSecond / on.serverCpu, unit: '/CPU·s', baseline: off.resultsPerSecond / off.serverCpu, baselineName: 'alerting off', goal: '≥ 0.9 × off', met: on.resultsPerSecond / on.serverCpu >= 0.9 * (off.resultsPerSecond / off.serverCpu) },
    ];
    if (!latency) return throughput;
    return [
      ...throughput,
      { name: `agents connected while timing alerts (goal ${FLEET.agents})`, value: latency.connected, unit: 'agents' },
      { name: 'alert messages received / ALG results sent', value: latency.received, unit: 'messages', baseline: SAMPLES.sites, baselineName: 'sent' },
      { name: 'result emitted → webhook received, p50 (group wait 0)', value: percentile(latency.fromEmit, 50), unit: 'ms' },
      { name: 'result emitted → webhook received, p99 (group wait 0)', value: percentile(latency.fromEmit, 99), unit: 'ms', goal: '< 200 ms', met: percentile(latency.fromEmit, 99) < 200 },
      { name: 'result stored (ack) → webhook received, p50', value: percentile(latency.fromAck, 50), unit: 'ms' },
      { name: 'result stored (ack) → webhook received, p99', value: percentile(latency.fromAck, 99), unit: 'ms', goal: '< 200 ms', met: percentile(latency.fromAck, 99) < 200 },
    ];
  } finally {
    await rig.close();
  }
}

interface LatencyRun {
  connected: number;
  received: number;
  fromEmit: number[];
  fromAck: number[];
}

async function measureLatency(rig: IngestRig): Promise<LatencyRun> {
  const fleet = await rig.enroll('bench-alerting-fleet', FLEET.sites, FLEET.agents / FLEET.sites);
  const probes = await rig.enroll('bench-alerting-probe', SAMPLES.sites, 1);
  const arrivals = new Map<string, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { site: string; status: string };
      if (body.status === 'firing' && !arrivals.has(body.site)) arrivals.set(body.site, at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
  const server = await rig.startIngestServer(['--alert-group-wait', '0', '--bench-webhook', webhook]);
  const processes = Array.from({ length: FLEET.processes }, () => new FleetProcess());
  const sockets: Socket<ServerToAgentEvents, AgentToServerEvents>[] = [];
  try {
    const share = Math.ceil(fleet.logins.length / processes.length);
    const connects = await Promise.all(
      processes.map((p, i) => p.ask({ type: 'connect', url: `http://127.0.0.1:${server.port}`, agents: fleet.logins.slice(i * share, (i + 1) * share), concurrency: Math.floor(CONNECT_CONCURRENCY / processes.length) }, 'connected', 300_000)),
    );
    await Promise.all(processes.map((p) => p.ask({ type: 'schedule', influxUrl: rig.influxd.url, database: 'algwatch', visibilitySampleRate: 0 }, 'started')));
    for (const login of probes.logins) {
      const socket: Socket<ServerToAgentEvents, AgentToServerEvents> = connect(`http://127.0.0.1:${server.port}${AGENT_NAMESPACE}`, {
        auth: login,
        transports: ['websocket'],
        reconnection: false,
      });
      sockets.push(socket);
      await socket.timeout(30_000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: 'bench', hostname: login.agentId });
    }
    const emitted = new Map<string, { emitAt: number; ackAt: number }>();
    for (const [index, socket] of sockets.entries()) {
      const site = probes.siteOf[index] as string;
      const emitAt = performance.now();
      await socket.timeout(30_000).emitWithAck('results', { results: [sipAlgResult('udp', 'detected')] });
      emitted.set(site, { emitAt, ackAt: performance.now() });
      await sleep(SAMPLES.spacingMs);
    }
    await sleep(2_000);
    const fromEmit: number[] = [];
    const fromAck: number[] = [];
    for (const [site, { emitAt, ackAt }] of emitted) {
      const at = arrivals.get(site);
      if (at === undefined) continue;
      fromEmit.push(at - emitAt);
      fromAck.push(at - ackAt);
    }
    return { connected: connects.reduce((sum, c) => sum + c.connected, 0), received: fromEmit.length, fromEmit, fromAck };
  } finally {
    for (const socket of sockets) socket.close();
    await Promise.all(processes.map((p) => p.close()));
    await server.stop();
    receiver.close();
  }
}

/**
 * The fleet pipeline from agent to InfluxDB, on the real server (startServer in its own process,
 * SQLite relational store, a throw-away influxd):
 * - results/s ingested end to end (goal 20,000/s) next to writeDirect of the same points;
 * - connected agents per server process (goal 10,000), its RSS (goal < 1 GB) and CPU;
 * - emit→ack and emit→visible-in-InfluxDB latency at that fleet's default-schedule load.
 * Simulated agents are socket.io-client connections (websocket transport only) in fleet processes.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { BenchFigure } from './figures.js';
import type { FleetReport } from './fleet-process.js';
import { FLEET, measureFleet } from './ingest-fleet.js';
import { percentile, startIngestRig, type WindowUsage } from './ingest-rig.js';
import { FLOOD, measureThroughput } from './ingest-throughput.js';

const MB = 1e6;

export async function benchIngest(): Promise<BenchFigure[]> {
  process.stdout.write(
    `note: ${cpus().length} cores shared by the server process, influxd and the simulated agents (fleet processes); ` +
      `clients use the websocket transport only; open-files limit ${await openFilesLimit()} per process\n`,
  );
  const rig = await startIngestRig();
  try {
    const flood = await measureThroughput(rig);
    // ALGWATCH_BENCH_INGEST=flood skips the 10,000-agent phase (quicker while tuning throughput).
    if (process.env.ALGWATCH_BENCH_INGEST === 'flood') return throughputFigures(flood);
    const fleet = await measureFleet(rig);
    return [...throughputFigures(flood), ...fleetFigures(fleet)];
  } finally {
    await rig.close();
  }
}

function throughputFigures(flood: Awaited<ReturnType<typeof measureThroughput>>): BenchFigure[] {
  const shape = `${flood.agents} agents, batches of ${FLOOD.batchSize}, ${FLOOD.windowMs / 1000} s after ${FLOOD.warmupMs / 1000} s warm-up`;
  const figures: BenchFigure[] = [
    {
      name: `results/s ingested end to end (acked after the InfluxDB write; ${shape})`,
      value: flood.resultsPerSecond,
      unit: '/s',
      goal: '≥ 20,000/s',
      met: flood.resultsPerSecond >= 20_000,
      baseline: flood.directPerSecond,
      baselineName: 'writeDirect of the same points, batches of 5,000, same influxd',
    },
    {
      name: 'results ingested per CPU-second of the server process (less sensitive to the shared cores)',
      value: flood.resultsPerSecond / flood.usage.serverCpu,
      unit: '/CPU·s',
      goal: '≥ 20,000 (what 20,000/s on one core needs)',
      met: flood.resultsPerSecond / flood.usage.serverCpu >= 20_000,
    },
    { name: 'flood results found in InfluxDB by COUNT of their probe points', value: flood.foundInInflux, unit: 'results', baseline: flood.acked, baselineName: 'acked by the server' },
    { name: 'writeDirect results found in InfluxDB by COUNT of their probe points', value: flood.directFound, unit: 'results', baseline: flood.acked, baselineName: 'written' },
    ...usageFigures('the flood window', flood.usage),
    ...latencyFigures('flood', flood.report),
  ];
  if (flood.report.notOk + flood.report.ackTimeouts > 0) {
    figures.push({
      name: `flood batches not acked ok (${flood.report.ackTimeouts} ack timeouts; e.g. ${flood.report.notOkSample.join(' / ')})`,
      value: flood.report.notOk + flood.report.ackTimeouts,
      unit: `of ${flood.report.batches} batches`,
    });
  }
  return figures;
}

function fleetFigures(fleet: Awaited<ReturnType<typeof measureFleet>>): BenchFigure[] {
  const acked = fleet.reports.reduce((sum, r) => sum + r.acked, 0);
  const merged = mergeReports(fleet.reports);
  const failed = fleet.failed > 0 ? `; ${fleet.failed} failed: ${fleet.firstError ?? ''}` : '';
  return [
    {
      name: `agents connected to one server process (hello acked; ${FLEET.processes} fleet processes, ramp ${fleet.rampSeconds.toFixed(1)} s${failed})`,
      value: fleet.connected,
      unit: 'agents',
      goal: `${FLEET.agents.toLocaleString('en-US')}`,
      met: fleet.connected >= FLEET.agents,
    },
    {
      name: `server RSS with ${fleet.connected} agents connected (peak over the ${fleet.holdSeconds.toFixed(0)} s hold)`,
      value: fleet.peakServerRssBytes / MB,
      unit: 'MB',
      goal: '< 1,000 MB',
      met: fleet.peakServerRssBytes < 1000 * MB,
      baseline: fleet.idleServerRssBytes / MB,
      baselineName: 'same server idle, no agent',
    },
    ...usageFigures(`the hold, ${fleet.connected} agents heartbeating every 30 s on the default schedule`, fleet.usage),
    {
      name: 'fleet results acked per second during the hold',
      value: acked / fleet.holdSeconds,
      unit: '/s',
      baseline: fleet.scheduleResultsPerSecond,
      baselineName: 'default schedule rate, no SIP targets',
    },
    { name: 'heartbeats sent during the hold', value: merged.heartbeats, unit: 'heartbeats' },
    { name: 'connections dropped during the hold', value: merged.disconnects, unit: 'agents' },
    ...latencyFigures(`${fleet.connected} agents`, merged),
    {
      name: `emit→visible in InfluxDB p50 (${merged.visibleLatenciesMs.length} sampled stun_mapping results, ${merged.notVisible} never seen in 10 s)`,
      value: percentile(merged.visibleLatenciesMs, 50),
      unit: 'ms',
    },
    { name: 'emit→visible in InfluxDB p99', value: percentile(merged.visibleLatenciesMs, 99), unit: 'ms' },
    ...fleet.clientRssBytes.map((rss, i) => ({ name: `fleet process ${i + 1} RSS (${FLEET.agents / FLEET.processes} socket.io clients)`, value: rss / MB, unit: 'MB' })),
  ];
}

function usageFigures(during: string, usage: WindowUsage): BenchFigure[] {
  return [
    { name: `server CPU during ${during}`, value: usage.serverCpu * 100, unit: '% of one core' },
    {
      name: `server event loop busy during ${during}: main thread on a core ${pct(usage.serverMainRunning)}, waiting for a core ${pct(usage.serverMainWaitingForCore)}, rest blocked in synchronous calls such as SQLite's fsync`,
      value: usage.serverLoopBusy * 100,
      unit: '% of the time',
    },
    { name: `influxd CPU during ${during}`, value: usage.influxdCpu * 100, unit: '% of one core' },
    { name: `simulated agents' CPU during ${during}`, value: usage.clientsCpu * 100, unit: '% of one core' },
    { name: `machine during ${during} (all processes, everyone's)`, value: usage.machineBusy * 100, unit: `% of ${cpus().length} cores busy, ${(usage.machineIowait * 100).toFixed(1)} % iowait` },
  ];
}

const pct = (share: number) => `${(share * 100).toFixed(1)} %`;

function latencyFigures(load: string, report: FleetReport): BenchFigure[] {
  return [
    { name: `emit→ack p50 at ${load} (${report.ackLatenciesMs.length} batches)`, value: percentile(report.ackLatenciesMs, 50), unit: 'ms' },
    { name: `emit→ack p99 at ${load}`, value: percentile(report.ackLatenciesMs, 99), unit: 'ms' },
  ];
}

function mergeReports(reports: FleetReport[]): FleetReport {
  return {
    acked: reports.reduce((sum, r) => sum + r.acked, 0),
    batches: reports.reduce((sum, r) => sum + r.batches, 0),
    notOk: reports.reduce((sum, r) => sum + r.notOk, 0),
    notOkSample: reports.flatMap((r) => r.notOkSample).slice(0, 3),
    ackTimeouts: reports.reduce((sum, r) => sum + r.ackTimeouts, 0),
    heartbeats: reports.reduce((sum, r) => sum + r.heartbeats, 0),
    ackLatenciesMs: reports.flatMap((r) => r.ackLatenciesMs),
    visibleLatenciesMs: reports.flatMap((r) => r.visibleLatenciesMs),
    notVisible: reports.reduce((sum, r) => sum + r.notVisible, 0),
    disconnects: reports.reduce((sum, r) => sum + r.disconnects, 0),
    ackedByAgent: {},
  };
}

/** openFilesLimit is this process's soft RLIMIT_NOFILE (children inherit it). */
async function openFilesLimit(): Promise<string> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  return /^Max open files\s+(\S+)/m.exec(limits)?.[1] ?? 'unknown';
}

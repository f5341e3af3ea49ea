/**
 * Ingest throughput: FLOOD agents (one fleet process) send result batches to the real server as fast
 * as its acks and its per-connection batch rate allow; results/s counts acks (the server acks after
 * the InfluxDB write) in a window after a warm-up, and a COUNT query confirms every acked result is
 * in InfluxDB. Baseline: the very same points written with writeDirect to a second database of the
 * same influxd, right after.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_RESULTS_RATE } from '../server/src/ingest/agent-gateway.js';
import { createInfluxClient, ensureInfluxSchema } from '../server/src/storage/influx-schema.js';
import { writeDirect } from '../server/src/storage/influx-store.js';
import type { StoredPoint } from '../server/src/storage/time-series.js';
import { FleetProcess, type FleetReport } from './fleet-process.js';
import { floodResult } from './fleet-results.js';
import { pointsOfResult } from '../server/src/ingest/ingest-results.js';
import { INFLUX_DATABASE, influxCount, usageSnapshot, windowUsage, type IngestRig, type WindowUsage } from './ingest-rig.js';
import { MAX_UNAUTHENTICATED_PER_ADDRESS } from '../server/src/ingest/handshake-guard.js';

// The fleet connects from one address, and the server admits at most MAX_UNAUTHENTICATED_PER_ADDRESS
// connections per address that have not logged in yet: stay under it, or the extra ones are refused.
const CONNECT_CONCURRENCY = MAX_UNAUTHENTICATED_PER_ADDRESS / 2;

// Batches of 200: what an agent sends when it flushes its outbox (MAX_RESULTS_PER_BATCH), which is
// when a server sees floods (after an outage, every agent catches up at once).
export const FLOOD = { sites: 50, agentsPerSite: 10, batchSize: 200, warmupMs: 3_000, windowMs: 15_000 } as const;
const FLOOD_MEASUREMENTS = [
  { measurement: 'sip_alg', field: 'rtt_ms' },
  { measurement: 'stun_mapping', field: 'rtt_ms' },
];
const DIRECT_DATABASE = 'bench_direct';

export interface ThroughputRun {
  agents: number;
  resultsPerSecond: number;
  usage: WindowUsage;
  acked: number;
  foundInInflux: number;
  report: FleetReport;
  directPerSecond: number;
  directFound: number;
}

/** ThroughputOptions: the tenant the flood's sites are enrolled in (one per run) and the server's arguments. */
export interface ThroughputOptions {
  tenant?: string;
  serverArgs?: string[];
  /** Skip the writeDirect baseline (a second run in the same bench compares against the first). */
  skipDirect?: boolean;
  /** Logins in flight at once (default 50); the server admits 20 unauthenticated connections per address. */
  connectConcurrency?: number;
}

export async function measureThroughput(rig: IngestRig, options: ThroughputOptions = {}): Promise<ThroughputRun> {
  const tenant = options.tenant ?? 'bench-flood';
  const fleet = await rig.enroll(tenant, FLOOD.sites, FLOOD.agentsPerSite);
  const server = await rig.startIngestServer(options.serverArgs);
  const clients = new FleetProcess();
  const baseMs = Date.now() - 30 * 60_000;
  let report: FleetReport;
  let resultsPerSecond: number;
  let usage: WindowUsage;
  const influxdPid = await rig.influxdPid();
  try {
    const connected = await clients.ask({ type: 'connect', url: `http://127.0.0.1:${server.port}`, agents: fleet.logins, concurrency: options.connectConcurrency ?? CONNECT_CONCURRENCY }, 'connected');
    if (connected.connected !== fleet.logins.length) {
      throw new Error(`only ${connected.connected} of ${fleet.logins.length} flood agents connected: ${connected.firstError ?? ''}`);
    }
    await clients.ask({ type: 'flood', batchSize: FLOOD.batchSize, minIntervalMs: 1000 / DEFAULT_RESULTS_RATE.ratePerSecond, baseMs }, 'started');
    await sleep(FLOOD.warmupMs);
    const ackedBefore = (await clients.ask({ type: 'count' }, 'count')).acked;
    const before = await usageSnapshot(server, influxdPid, [clients]);
    await sleep(FLOOD.windowMs);
    const ackedAfter = (await clients.ask({ type: 'count' }, 'count')).acked;
    usage = windowUsage(before, await usageSnapshot(server, influxdPid, [clients]));
    resultsPerSecond = (ackedAfter - ackedBefore) / usage.seconds;
    report = (await clients.ask({ type: 'stop' }, 'report')).report;
  } finally {
    await clients.close();
    await server.stop();
  }
  const foundInInflux = await influxCount(rig.influxd.url, INFLUX_DATABASE, FLOOD_MEASUREMENTS, `tenant = '${tenant}'`);
  if (options.skipDirect) return { agents: fleet.logins.length, resultsPerSecond, usage, acked: report.acked, foundInInflux, report, directPerSecond: Number.NaN, directFound: Number.NaN };

  // The baseline writes what the server stored: each agent's acked results, as ingest tags them.
  const points: StoredPoint[] = [];
  fleet.logins.forEach((login, index) => {
    const tags = { tenant: fleet.tenant, site: fleet.siteOf[index]!, agent: login.agentId };
    const acked = report.ackedByAgent[login.agentId] ?? 0;
    for (let n = 0; n < acked; n++) points.push(...pointsOfResult(floodResult(baseMs, n), tags));
  });
  const { influx } = createInfluxClient(`${rig.influxd.url}/${DIRECT_DATABASE}`);
  await ensureInfluxSchema(influx, DIRECT_DATABASE);
  const started = performance.now();
  await writeDirect(influx, points, 5000, DIRECT_DATABASE);
  // Per result, like the server's figure: each result is its probe's point and ingest's probe_run point.
  const directPerSecond = report.acked / ((performance.now() - started) / 1000);
  const directFound = await influxCount(rig.influxd.url, DIRECT_DATABASE, FLOOD_MEASUREMENTS, `tenant = '${tenant}'`);

  return { agents: fleet.logins.length, resultsPerSecond, usage, acked: report.acked, foundInInflux, report, directPerSecond, directFound };
}

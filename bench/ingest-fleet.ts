/**
 * Connected agents per server process: a fresh server, then FLEET.agents socket.io connections
 * (websocket transport only) spread over FLEET.processes fleet processes, each saying hello, then
 * heartbeating every 30 s and sending results at the default schedule's rate for FLEET.holdMs while
 * the server's RSS and CPU are sampled. Emit→ack is recorded for every results batch, emit→visible
 * in InfluxDB for a sample of stun_mapping results.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FleetProcess, type FleetReport } from './fleet-process.js';
import { defaultScheduleRates, resultsPerAgentSecond } from './fleet-results.js';
import { INFLUX_DATABASE, usageSnapshot, windowUsage, type IngestRig, type WindowUsage } from './ingest-rig.js';
import { MAX_UNAUTHENTICATED_PER_ADDRESS } from '../server/src/ingest/handshake-guard.js';

// The fleet connects from one address, and the server admits at most MAX_UNAUTHENTICATED_PER_ADDRESS
// connections per address that have not logged in yet: stay under it, or the extra ones are refused.
const CONNECT_CONCURRENCY = MAX_UNAUTHENTICATED_PER_ADDRESS / 2;

export const FLEET = { agents: 10_000, processes: 2, sites: 100, holdMs: 60_000, visibleSamples: 300 } as const;

export interface FleetRun {
  connected: number;
  failed: number;
  firstError?: string;
  rampSeconds: number;
  idleServerRssBytes: number;
  peakServerRssBytes: number;
  usage: WindowUsage;
  clientRssBytes: number[];
  /** The default schedule's results per second for the whole fleet. */
  scheduleResultsPerSecond: number;
  holdSeconds: number;
  reports: FleetReport[];
}

export async function measureFleet(rig: IngestRig): Promise<FleetRun> {
  const fleet = await rig.enroll('bench-fleet', FLEET.sites, FLEET.agents / FLEET.sites);
  const server = await rig.startIngestServer();
  const processes = Array.from({ length: FLEET.processes }, () => new FleetProcess());
  const influxdPid = await rig.influxdPid();
  try {
    await sleep(1_000);
    const idleServerRssBytes = (await server.usage()).rssBytes;
    const share = Math.ceil(fleet.logins.length / processes.length);
    const rampStarted = performance.now();
    const connects = await Promise.all(
      processes.map((fleetProcess, i) =>
        fleetProcess.ask({ type: 'connect', url: `http://127.0.0.1:${server.port}`, agents: fleet.logins.slice(i * share, (i + 1) * share), concurrency: CONNECT_CONCURRENCY }, 'connected', 300_000),
      ),
    );
    const rampSeconds = (performance.now() - rampStarted) / 1000;
    const connected = connects.reduce((sum, c) => sum + c.connected, 0);
    const failed = connects.reduce((sum, c) => sum + c.failed, 0);
    const firstError = connects.find((c) => c.firstError)?.firstError;

    const perAgentRate = resultsPerAgentSecond(defaultScheduleRates());
    const samplesPerProcess = FLEET.visibleSamples / processes.length;
    // Each agent sends about one stun_mapping result per minute of the hold.
    const visibilitySampleRate = Math.min(1, samplesPerProcess / (share * (FLEET.holdMs / 60_000)));
    await Promise.all(processes.map((p) => p.ask({ type: 'schedule', influxUrl: rig.influxd.url, database: INFLUX_DATABASE, visibilitySampleRate }, 'started')));
    const before = await usageSnapshot(server, influxdPid, processes);
    let peakServerRssBytes = before.server.rssBytes;
    while (performance.now() - before.at < FLEET.holdMs) {
      await sleep(5_000);
      peakServerRssBytes = Math.max(peakServerRssBytes, (await server.usage()).rssBytes);
    }
    const usage = windowUsage(before, await usageSnapshot(server, influxdPid, processes));
    peakServerRssBytes = Math.max(peakServerRssBytes, (await server.usage()).rssBytes);
    const clientRssBytes = await Promise.all(processes.map(async (p) => (await p.ask({ type: 'usage' }, 'usage')).rssBytes));
    const reports = await Promise.all(processes.map(async (p) => (await p.ask({ type: 'stop' }, 'report')).report));
    return {
      connected,
      failed,
      ...(firstError ? { firstError } : {}),
      rampSeconds,
      idleServerRssBytes,
      peakServerRssBytes,
      usage,
      clientRssBytes,
      scheduleResultsPerSecond: perAgentRate * connected,
      holdSeconds: usage.seconds,
      reports,
    };
  } finally {
    await Promise.all(processes.map((p) => p.close()));
    await server.stop();
  }
}

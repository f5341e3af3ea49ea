/**
 * The ingest benchmark's rig: a throw-away influxd, a temp data dir whose SQLite holds the enrolled
 * sites (created the way `algwatch-server site add` does), and the real server started in its own
 * process against both. Everything is removed by close().
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd, type RunningInfluxd } from '../test/helpers/influxd.js';
import { openRelationalStore } from '../server/src/relational/open.js';
import type { AgentLogin, FleetProcess } from './fleet-process.js';
import type { IngestServerUsage } from './servers/ingest-server.js';
import { findPidByCmdline, machineCpu, machineShares, processCpuSeconds, threadSchedule, type MachineCpu, type ThreadSchedule } from './proc-usage.js';

export const INFLUX_DATABASE = 'algwatch';

/** EnrolledFleet is a tenant's agents: `agentsPerSite` agents share each site's token. */
export interface EnrolledFleet {
  tenant: string;
  logins: AgentLogin[];
  /** The site name of each login, same order. */
  siteOf: string[];
}

export interface IngestRig {
  influxd: RunningInfluxd;
  dataDir: string;
  /** `http://127.0.0.1:PORT/algwatch`, what the server is given as --influx-url. */
  influxUrl: string;
  enroll(tenant: string, sites: number, agentsPerSite: number): Promise<EnrolledFleet>;
  /** startIngestServer starts the real server (bench/servers/ingest-server.ts) on this rig; `args` go to it (see there). */
  startIngestServer(args?: string[]): Promise<IngestServer>;
  /** influxdPid finds the rig's influxd process (its command line names the rig's config file). */
  influxdPid(): Promise<number>;
  close(): Promise<void>;
}

export async function startIngestRig(): Promise<IngestRig> {
  const influxd = await startInfluxd();
  const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-bench-ingest-'));
  return {
    influxd,
    dataDir,
    influxUrl: `${influxd.url}/${INFLUX_DATABASE}`,
    async enroll(tenant, sites, agentsPerSite) {
      const store = await openRelationalStore({ dataDir });
      try {
        const fleet: EnrolledFleet = { tenant, logins: [], siteOf: [] };
        for (let s = 0; s < sites; s++) {
          const name = `${tenant}-site-${s}`;
          const { token } = await store.createSite(name, tenant);
          for (let a = 0; a < agentsPerSite; a++) {
            fleet.logins.push({ token, agentId: `${tenant}-${s}-${a}` });
            fleet.siteOf.push(name);
          }
        }
        return fleet;
      } finally {
        await store.close();
      }
    },
    startIngestServer: (args = []) => startIngestServer(dataDir, `${influxd.url}/${INFLUX_DATABASE}`, args),
    async influxdPid() {
      const pid = await findPidByCmdline(join(influxd.dir, 'influxdb.conf'));
      if (pid === undefined) throw new Error(`influxd of ${influxd.dir} not found in /proc`);
      return pid;
    },
    async close() {
      await influxd.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** IngestServer is the server process: its HTTP port, its usage on demand, and stop. */
export interface IngestServer {
  port: number;
  pid: number;
  usage(): Promise<IngestServerUsage>;
  stop(): Promise<void>;
}

async function startIngestServer(dataDir: string, influxUrl: string, args: string[]): Promise<IngestServer> {
  const child = fork(new URL('./servers/ingest-server.ts', import.meta.url), [dataDir, influxUrl, ...args], {
    execArgv: ['--import', 'tsx', ...(process.env.ALGWATCH_BENCH_SERVER_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...(process.env.ALGWATCH_BENCH_SERVER_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.ALGWATCH_BENCH_SERVER_PROFILE] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { ready?: number }) => (message.ready ? resolve(message.ready) : reject(new Error('ingest server: unexpected first message'))));
    child.once('exit', (code) => reject(new Error(`ingest server exited with ${code} before listening (see its stderr above)`)));
  });
  return {
    port,
    pid: child.pid!,
    usage: () =>
      new Promise<IngestServerUsage>((resolve) => {
        child.once('message', (message: IngestServerUsage) => resolve(message));
        child.send('usage');
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** UsageDelta is what a server used between two usage() readings, as shares of the wall time. */
export function usageDelta(before: IngestServerUsage, after: IngestServerUsage, seconds: number): { cpuShare: number; loopBusyShare: number } {
  const active = after.loopActiveMs - before.loopActiveMs;
  const idle = after.loopIdleMs - before.loopIdleMs;
  return { cpuShare: (after.cpuSeconds - before.cpuSeconds) / seconds, loopBusyShare: active + idle > 0 ? active / (active + idle) : 0 };
}

/** influxCount sums count(field) over measurements in `database` WHERE `where`. */
export async function influxCount(baseUrl: string, database: string, counts: Array<{ measurement: string; field: string }>, where: string): Promise<number> {
  let total = 0;
  for (const { measurement, field } of counts) {
    const query = `SELECT count("${field}") FROM "raw"."${measurement}" WHERE ${where}`;
    const res = await fetch(`${baseUrl}/query?db=${encodeURIComponent(database)}&q=${encodeURIComponent(query)}`);
    const body = (await res.json()) as { results?: Array<{ series?: Array<{ values?: Array<[unknown, number]> }>; error?: string }> };
    const result = body.results?.[0];
    if (result?.error) throw new Error(`InfluxDB count query failed: ${result.error}`);
    total += result?.series?.[0]?.values?.[0]?.[1] ?? 0;
  }
  return total;
}

/** percentile of `values` (0-100), nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** UsageSnapshot is every process's CPU counters at one moment (see windowUsage). */
export interface UsageSnapshot {
  at: number;
  server: IngestServerUsage;
  serverMainThread: ThreadSchedule;
  influxdCpuSeconds: number;
  clientsCpuSeconds: number;
  machine: MachineCpu;
}

/** WindowUsage is where the cores went during a window, each as a share of one core (machine: of all cores). */
export interface WindowUsage {
  seconds: number;
  serverCpu: number;
  /** Share of the window the server's event loop was not waiting for I/O events (CPU or blocking calls). */
  serverLoopBusy: number;
  /** Shares of the window the server's main thread ran on a core, and waited for one (other processes had them). */
  serverMainRunning: number;
  serverMainWaitingForCore: number;
  influxdCpu: number;
  clientsCpu: number;
  machineBusy: number;
  machineIowait: number;
}

export async function usageSnapshot(server: IngestServer, influxdPid: number, clients: FleetProcess[]): Promise<UsageSnapshot> {
  const [serverUsage, serverMainThread, influxdCpuSeconds, clientUsages, machine] = await Promise.all([
    server.usage(),
    threadSchedule(server.pid),
    processCpuSeconds(influxdPid),
    Promise.all(clients.map((c) => c.ask({ type: 'usage' }, 'usage'))),
    machineCpu(),
  ]);
  return { at: performance.now(), server: serverUsage, serverMainThread, influxdCpuSeconds, clientsCpuSeconds: clientUsages.reduce((sum, u) => sum + u.cpuSeconds, 0), machine };
}

export function windowUsage(before: UsageSnapshot, after: UsageSnapshot): WindowUsage {
  const seconds = (after.at - before.at) / 1000;
  const server = usageDelta(before.server, after.server, seconds);
  const machine = machineShares(before.machine, after.machine);
  return {
    seconds,
    serverCpu: server.cpuShare,
    serverLoopBusy: server.loopBusyShare,
    serverMainRunning: (after.serverMainThread.runNs - before.serverMainThread.runNs) / 1e9 / seconds,
    serverMainWaitingForCore: (after.serverMainThread.waitNs - before.serverMainThread.waitNs) / 1e9 / seconds,
    influxdCpu: (after.influxdCpuSeconds - before.influxdCpuSeconds) / seconds,
    clientsCpu: (after.clientsCpuSeconds - before.clientsCpuSeconds) / seconds,
    machineBusy: machine.busy,
    machineIowait: machine.iowait,
  };
}

/**
 * The ingest benchmark's rig: a throw-away influxd, a temp data dir whose SQLite holds the enrolled
 * sites (created the way `algwatch-server site add` does), and the real server started in its own
 * process against both. Everything is removed by close().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd, type RunningInfluxd } from '../test/helpers/influxd.js';
import { openRelationalStore } from '../server/src/relational/open.js';
import { startBenchChild, type BenchChild } from './servers/child.js';
import type { AgentLogin } from './fleet-process.js';

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
  /** startIngestServer starts the real server (bench/servers/ingest-server.ts) on this rig. */
  startIngestServer(): Promise<BenchChild>;
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
    startIngestServer: () => startBenchChild('./ingest-server.ts', [dataDir, `${influxd.url}/${INFLUX_DATABASE}`]),
    async close() {
      await influxd.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
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

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MEASUREMENTS } from '@algwatch/protocol/measurements';
import { startInfluxd, type RunningInfluxd } from '../../../test/helpers/influxd.js';
import { rollupQueries, rollupSelect, trueCountSelect } from './influx-schema.js';
import { InfluxTimeSeriesStore, writeDirect, type InfluxStoreOptions } from './influx-store.js';
import type { StoredPoint } from './time-series.js';

let influxd: RunningInfluxd;
const cleanups: (() => Promise<void>)[] = [];
let databaseCount = 0;

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  // A fault test may leave InfluxDB down when it fails: bring it back for the next test.
  if (!(await fetch(`${influxd.url}/ping`).then((res) => res.ok, () => false))) await influxd.start();
});

/** openStore starts a store on a fresh database and data dir; closed after the test. */
async function openStore(options: Partial<InfluxStoreOptions> = {}): Promise<{ store: InfluxTimeSeriesStore; database: string; dataDir: string }> {
  const database = `test_${++databaseCount}`;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'algwatch-influx-store-')));
  const store = new InfluxTimeSeriesStore({ url: `${influxd.url}/${database}`, retryMinMs: 50, retryMaxMs: 400, ...options, dataDir });
  await store.start();
  cleanups.push(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { store, database, dataDir };
}

interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** influxql runs one statement and returns its series (times in ms). */
async function influxql(database: string, q: string): Promise<Series[]> {
  const res = await fetch(`${influxd.url}/query?${new URLSearchParams({ db: database, q, epoch: 'ms' })}`, { method: 'POST' });
  const body = (await res.json()) as { results: { series?: Series[]; error?: string }[] };
  const result = body.results[0]!;
  if (result.error) throw new Error(result.error);
  return result.series ?? [];
}

async function countPoints(database: string, measurement: string, field: string): Promise<number> {
  const [series] = await influxql(database, `SELECT count("${field}") FROM "raw"."${measurement}"`);
  return series ? (series.values[0]![1] as number) : 0;
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const HOUR = 3_600_000;
const baseMs = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR; // inside the 30-day raw policy
const tags = { tenant: 'msp1', site: 'site-a', agent: 'agent-1', target: 'reflector', transport: 'udp', result: 'success' };

function keepalive(i: number, site = 'site-a'): StoredPoint {
  return { measurement: 'crlf_keepalive', tags: { ...tags, site }, fields: { rtt_ms: 10 + (i % 7), pong: true }, timestampMs: baseMs + i };
}

describe('InfluxTimeSeriesStore', () => {
  it('writes every field with the type the MEASUREMENTS schema gives it', async () => {
    const { store, database } = await openStore();
    await store.write([
      {
        measurement: 'sip_alg',
        tags,
        // Whole numbers on purpose: rtt_ms must still be a float, rewrites_* integers.
        fields: { alg_detected: true, rewrites_outbound: 2, rewrites_inbound: 0, rewritten_fields: 'Via,Contact', rtt_ms: 12 },
        timestampMs: baseMs,
      },
      {
        measurement: 'stun_mapping',
        tags: { tenant: 'msp1', site: 'site-a', agent: 'agent-1', target: 'reflector', result: 'success' },
        fields: { nat_present: true, public_address: '203.0.113.7', public_port: 40000, port_preserved: false, rtt_ms: 3.5 },
        timestampMs: baseMs,
      },
    ]);
    for (const measurement of ['sip_alg', 'stun_mapping'] as const) {
      const [keys] = await influxql(database, `SHOW FIELD KEYS FROM "raw"."${measurement}"`);
      expect(Object.fromEntries(keys!.values)).toEqual(MEASUREMENTS[measurement].fields);
    }
    const [row] = await influxql(database, 'SELECT * FROM "raw"."sip_alg"');
    const values = Object.fromEntries(row!.columns.map((column, i) => [column, row!.values[0]![i]]));
    expect(values).toMatchObject({ time: baseMs, alg_detected: true, rewrites_outbound: 2, rewritten_fields: 'Via,Contact', rtt_ms: 12, site: 'site-a' });
  });

  it('stores the same point written twice once', async () => {
    const { store, database } = await openStore();
    await store.write([keepalive(1)]);
    await store.write([keepalive(1), keepalive(2)]);
    expect(await countPoints(database, 'crlf_keepalive', 'rtt_ms')).toBe(2);
  });

  it('creates the raw (default, 30 days) and hourly (400 days) policies and every continuous query', async () => {
    const { database } = await openStore();
    const [policies] = await influxql(database, `SHOW RETENTION POLICIES ON "${database}"`);
    const byName = Object.fromEntries(policies!.values.map((row) => [row[0], { duration: row[1], isDefault: row[4] }]));
    expect(byName.raw).toEqual({ duration: '720h0m0s', isDefault: true });
    expect(byName.hourly).toEqual({ duration: '9600h0m0s', isDefault: false });
    const queries = (await influxql(database, 'SHOW CONTINUOUS QUERIES')).find((series) => series.name === database);
    expect(queries!.values.map((row) => row[0]).sort()).toEqual(rollupQueries(database).map((query) => query.name).sort());
  });

  it('sets up an existing database again without error on the next start', async () => {
    const { database, dataDir } = await openStore();
    const again = new InfluxTimeSeriesStore({ url: `${influxd.url}/${database}`, dataDir: join(dataDir, 'second') });
    await again.start();
    expect(again.state).toBe('direct');
    await again.close();
  });

  it('rolls raw points up into hourly mean, max, min and counts per series', async () => {
    const { store, database } = await openStore();
    await store.write([
      { measurement: 'sip_alg', tags, fields: { alg_detected: true, rewrites_outbound: 1, rtt_ms: 10 }, timestampMs: baseMs + 1000 },
      { measurement: 'sip_alg', tags, fields: { alg_detected: false, rewrites_outbound: 3, rtt_ms: 30 }, timestampMs: baseMs + 2000 },
      { measurement: 'sip_alg', tags, fields: { alg_detected: true, rewrites_outbound: 2, rtt_ms: 20 }, timestampMs: baseMs + 3000 },
    ]);
    // The continuous queries' own SELECTs, run by hand over the hour (a CQ would only run at the hour's end).
    const where = ` WHERE time >= ${baseMs}ms AND time < ${baseMs + HOUR}ms`;
    await influxql(database, rollupSelect(database, 'sip_alg', where));
    await influxql(database, trueCountSelect(database, 'sip_alg', 'alg_detected', where));
    const [hourly] = await influxql(database, 'SELECT * FROM "hourly"."sip_alg"');
    const row = Object.fromEntries(hourly!.columns.map((column, i) => [column, hourly!.values[0]![i]]));
    expect(row).toMatchObject({
      time: baseMs,
      site: 'site-a',
      target: 'reflector',
      rtt_ms_mean: 20,
      rtt_ms_max: 30,
      rtt_ms_min: 10,
      rtt_ms_count: 3,
      rewrites_outbound_max: 3,
      alg_detected_count: 3,
      alg_detected_true: 2,
    });
  });

  it('keeps writing through an InfluxDB outage and ends with every point exactly once', async () => {
    const { store, database } = await openStore({ flushIntervalMs: 20 });
    let i = 0;
    const writeRound = () => store.write(Array.from({ length: 50 }, () => keepalive(i++)));
    for (let round = 0; round < 5; round++) await writeRound();
    expect(store.state).toBe('direct');

    await influxd.kill();
    for (let round = 0; round < 10; round++) await writeRound(); // resolves: spooled
    expect(store.state).toBe('spooling');
    expect(store.spooledBytes).toBeGreaterThan(0);

    await influxd.start();
    // Writes go on while the spool drains; they must queue behind it, not overtake it.
    for (let round = 0; round < 5; round++) await writeRound();
    await eventually(async () => store.state === 'direct', 'the spool to drain');
    await writeRound();
    expect(await countPoints(database, 'crlf_keepalive', 'rtt_ms')).toBe(i);
    expect(store.spooledBytes).toBe(0);
  });

  it('drains a spool left by a previous process that started while InfluxDB was down', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-influx-store-'));
    await influxd.kill();
    const first = new InfluxTimeSeriesStore({ url: `${influxd.url}/drain_later`, dataDir, batchSize: 100 });
    await first.start(); // unreachable is not an error
    await first.write(Array.from({ length: 300 }, (_, n) => keepalive(n)));
    await first.close();
    await influxd.start();

    const { store } = await openStore({ url: `${influxd.url}/drain_later`, dataDir });
    await eventually(async () => store.state === 'direct', 'the old spool to drain');
    expect(await countPoints('drain_later', 'crlf_keepalive', 'rtt_ms')).toBe(300);
  });

  it('sets a batch InfluxDB refuses as bad data aside and goes on writing the rest', async () => {
    const { store, database, dataDir } = await openStore();
    // status_code already exists as a string: InfluxDB answers 400 field type conflict.
    const conflict = await fetch(`${influxd.url}/write?db=${database}&rp=raw&precision=ms`, {
      method: 'POST',
      body: `sip_options,site=site-b status_code="oops" ${baseMs}`,
    });
    expect(conflict.status).toBe(204);
    const refused: StoredPoint = { measurement: 'sip_options', tags: { ...tags, site: 'site-b' }, fields: { status_code: 200 }, timestampMs: baseMs + 1 };

    await store.write([refused]);
    await influxd.kill();
    await store.write([refused]); // spooled, refused again while draining
    await store.write([keepalive(1)]);
    await influxd.start();
    await eventually(async () => store.state === 'direct', 'the spool to drain past the refused batch');

    expect(await countPoints(database, 'crlf_keepalive', 'rtt_ms')).toBe(1);
    const rejected = (await readFile(join(dataDir, 'influx-rejected.ndjson'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { reason: string; points: StoredPoint[] });
    expect(rejected).toHaveLength(2);
    expect(rejected[0]!.reason).toMatch(/field type conflict/);
    expect(rejected[1]!.points).toEqual([refused]);
  });

  it('sets points that break the schema aside before they can fail a batch', async () => {
    const { store, database, dataDir } = await openStore();
    const wrongType = { ...keepalive(1), fields: { rtt_ms: 'fast' } };
    await store.write([wrongType, keepalive(2)]);
    expect(await countPoints(database, 'crlf_keepalive', 'rtt_ms')).toBe(1);
    expect(await readFile(join(dataDir, 'influx-rejected.ndjson'), 'utf8')).toContain('field crlf_keepalive.rtt_ms must be float');
  });

  it('rejects a write with one line when the spool is full', async () => {
    const { store } = await openStore({ spoolMaxBytes: 2000 });
    await influxd.kill();
    await expect(store.write(Array.from({ length: 50 }, (_, n) => keepalive(n)))).rejects.toThrow(/^cannot keep 50 points: time-series spool full: .*$/);
  });

  it('rejects a write with one line when the disk is full (ENOSPC)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-influx-enospc-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dataDir]);
    cleanups.push(async () => {
      execFileSync('umount', [dataDir]);
      await rm(dataDir, { recursive: true, force: true });
    });
    const { store } = await openStore({ dataDir: join(dataDir, 'data') });
    await influxd.kill();
    await store.write([keepalive(0)]);
    await expect(store.write(Array.from({ length: 2000 }, (_, n) => keepalive(n)))).rejects.toThrow(/^cannot keep 2000 points: ENOSPC[^\n]*$/);
  });
});

describe('writeDirect', () => {
  it('writes points in batches straight to InfluxDB', async () => {
    const { store, database } = await openStore();
    await writeDirect(store.influx, Array.from({ length: 1200 }, (_, n) => keepalive(n)), 500);
    expect(await countPoints(database, 'crlf_keepalive', 'rtt_ms')).toBe(1200);
  });
});

describe('TimeSeriesStore.query on InfluxDB', () => {
  it('returns one tenant`s site`s points in the time range, oldest first, with tag values taken literally', async () => {
    const store = await (await openStore()).store;
    const at = Date.now() - 60_000;
    const point = (tenant: string, site: string, offset: number, rtt: number): StoredPoint => ({
      measurement: 'crlf_keepalive',
      tags: { tenant, site, agent: 'a1', target: 'pbx', transport: 'tcp', result: 'ok' },
      fields: { rtt_ms: rtt, pong: true },
      timestampMs: at + offset,
    });
    await store.write([point('acme', "o'hare", 2000, 12.5), point('acme', "o'hare", 1000, 11), point('globex', "o'hare", 1500, 99), point('acme', "o'hare", 9000, 50)]);
    await eventually(async () => (await countPoints((store as InfluxTimeSeriesStore).target.database, 'crlf_keepalive', 'rtt_ms')) === 4, 'points written');
    const points = await store.query('crlf_keepalive', { filter: { tenant: 'acme', site: "o'hare" }, fromMs: at, toMs: at + 5000 });
    expect(points.map((p) => [p.timestampMs - at, p.fields.rtt_ms, p.fields.pong, p.tags.tenant])).toEqual([
      [1000, 11, true, 'acme'],
      [2000, 12.5, true, 'acme'],
    ]);
    await expect(store.query('crlf_keepalive', { filter: { nope: 'x' }, fromMs: at, toMs: at + 1 })).rejects.toThrow('crlf_keepalive has no tag nope');
  });
});

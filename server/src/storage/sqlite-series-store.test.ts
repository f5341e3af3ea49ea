import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteTimeSeriesStore, type SqliteSeriesStoreOptions } from './sqlite-series-store.js';
import type { StoredPoint } from './time-series.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'algwatch-sqlite-series-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openStore(options: Partial<SqliteSeriesStoreOptions> = {}): Promise<SqliteTimeSeriesStore> {
  const store = new SqliteTimeSeriesStore({ dataDir: options.dataDir ?? (await tempDir()), ...options });
  cleanups.push(() => store.close());
  return store;
}

const t0 = 1_700_000_000_000;
function sipAlg(site: string, timestampMs: number, fields: StoredPoint['fields'], target = 'reflector'): StoredPoint {
  return {
    measurement: 'sip_alg',
    tags: { tenant: 'msp1', site, agent: `agent-${site}`, target, transport: 'udp', result: 'success' },
    fields,
    timestampMs,
  };
}

describe('SqliteTimeSeriesStore', () => {
  it('gives points back with their tags, field types and millisecond times', async () => {
    const store = await openStore();
    const point = sipAlg('site-a', t0 + 1, { alg_detected: true, rewrites_outbound: 2, rewritten_fields: 'Via', rtt_ms: 12.5 });
    await store.write([point]);
    expect(store.range('sip_alg', { fromMs: t0, toMs: t0 + 10 })).toEqual([point]);
  });

  it('stores the same point written twice once, keeping fields only the first write carried', async () => {
    const store = await openStore();
    await store.write([sipAlg('site-a', t0, { alg_detected: false, rtt_ms: 10 })]);
    await store.write([sipAlg('site-a', t0, { rtt_ms: 11 }), sipAlg('site-a', t0, { rtt_ms: 11 })]);
    expect(store.range('sip_alg', { fromMs: t0, toMs: t0 + 1 }).map((p) => p.fields)).toEqual([{ alg_detected: false, rtt_ms: 11 }]);
  });

  it('keeps series apart that differ only by one tag at the same time', async () => {
    const store = await openStore();
    await store.write([sipAlg('site-a', t0, { rtt_ms: 1 }, 'reflector'), sipAlg('site-a', t0, { rtt_ms: 2 }, 'pbx')]);
    expect(store.range('sip_alg', { site: 'site-a', fromMs: t0, toMs: t0 + 1 })).toHaveLength(2);
  });

  it('returns the latest point of each site, or of each site and target', async () => {
    const store = await openStore();
    await store.write([
      sipAlg('site-a', t0, { rtt_ms: 1 }),
      sipAlg('site-a', t0 + 2000, { rtt_ms: 3 }),
      sipAlg('site-a', t0 + 1000, { rtt_ms: 2 }, 'pbx'),
      sipAlg('site-b', t0 + 500, { rtt_ms: 9 }),
    ]);
    expect(store.latest('sip_alg').map((p) => [p.tags.site, p.fields.rtt_ms, p.timestampMs])).toEqual([
      ['site-a', 3, t0 + 2000],
      ['site-b', 9, t0 + 500],
    ]);
    expect(store.latest('sip_alg', { site: 'site-a' }, ['site', 'target']).map((p) => [p.tags.target, p.fields.rtt_ms])).toEqual([
      ['pbx', 2],
      ['reflector', 3],
    ]);
    expect(() => store.latest('sip_alg', { 'site" OR 1=1 --': 'x' })).toThrow(/has no tag/);
  });

  it('returns a site’s points between two times, oldest first, end excluded', async () => {
    const store = await openStore();
    await store.write([3, 1, 2, 4].map((n) => sipAlg('site-a', t0 + n * 1000, { rtt_ms: n })));
    await store.write([sipAlg('site-b', t0 + 2000, { rtt_ms: 99 })]);
    const points = store.range('sip_alg', { site: 'site-a', fromMs: t0 + 1000, toMs: t0 + 4000 });
    expect(points.map((p) => p.fields.rtt_ms)).toEqual([1, 2, 3]);
  });

  it('batches many concurrent writes and keeps all of them across a reopen', async () => {
    const dataDir = await tempDir();
    const first = new SqliteTimeSeriesStore({ dataDir, batchSize: 100 });
    await Promise.all(Array.from({ length: 50 }, (_, w) => first.write(Array.from({ length: 10 }, (_, n) => sipAlg('site-a', t0 + w * 10 + n, { rtt_ms: n })))));
    await first.close();
    const db = new Database(join(dataDir, 'time-series.sqlite'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT count(*) AS n FROM sip_alg').get()).toEqual({ n: 500 });
    db.close();
  });

  it('sets points that break the schema aside and stores the rest', async () => {
    const dataDir = await tempDir();
    const store = await openStore({ dataDir });
    await store.write([sipAlg('site-a', t0, { rtt_ms: 'slow' }), sipAlg('site-a', t0 + 1, { rtt_ms: 5 })]);
    expect(store.range('sip_alg', { fromMs: t0, toMs: t0 + 10 })).toHaveLength(1);
    expect(await readFile(join(dataDir, 'sqlite-rejected.ndjson'), 'utf8')).toContain('field sip_alg.rtt_ms must be float');
  });

  it('brings a file from an older schema up to date: new field columns, new tags in the unique index', async () => {
    const dataDir = await tempDir();
    const old = new Database(join(dataDir, 'time-series.sqlite'));
    old.exec(`CREATE TABLE crlf_keepalive (time_ms INTEGER NOT NULL, tenant TEXT NOT NULL DEFAULT '', site TEXT NOT NULL DEFAULT '', rtt_ms REAL);
      CREATE UNIQUE INDEX crlf_keepalive_series_time ON crlf_keepalive (tenant, site, time_ms);
      INSERT INTO crlf_keepalive (time_ms, tenant, site, rtt_ms) VALUES (${t0}, 'msp1', 'site-a', 7);`);
    old.close();
    const store = await openStore({ dataDir });
    const tags = { tenant: 'msp1', site: 'site-a', agent: 'a1', transport: 'udp', result: 'success' };
    await store.write([
      { measurement: 'crlf_keepalive', tags: { ...tags, target: 'reflector' }, fields: { rtt_ms: 1, pong: true }, timestampMs: t0 },
      { measurement: 'crlf_keepalive', tags: { ...tags, target: 'pbx' }, fields: { rtt_ms: 2, pong: false }, timestampMs: t0 },
    ]);
    expect(store.range('crlf_keepalive', { site: 'site-a', fromMs: t0, toMs: t0 + 1 }).map((p) => [p.tags.target, p.fields])).toEqual([
      [undefined, { rtt_ms: 7 }],
      ['reflector', { rtt_ms: 1, pong: true }],
      ['pbx', { rtt_ms: 2, pong: false }],
    ]);
  });

  it('rejects a write with one line when the disk is full', async () => {
    const dataDir = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', dataDir]);
    cleanups.push(async () => void execFileSync('umount', [dataDir]));
    const store = await openStore({ dataDir });
    const big = Array.from({ length: 3000 }, (_, n) => sipAlg('site-a', t0 + n, { rewritten_fields: 'x'.repeat(200) }));
    await expect(store.write(big)).rejects.toThrow(/^cannot keep 3000 points: disk full \(SQLITE_FULL\) at \S+$/);
  });
});

describe('TimeSeriesStore.query on SQLite', () => {
  it('returns one tenant`s site`s points in the time range, oldest first, with tag values taken literally', async () => {
    const store = await openStore();
    const at = Date.now() - 60_000;
    const point = (tenant: string, site: string, offset: number, rtt: number): StoredPoint => ({
      measurement: 'crlf_keepalive',
      tags: { tenant, site, agent: 'a1', target: 'pbx', transport: 'tcp', result: 'ok' },
      fields: { rtt_ms: rtt, pong: true },
      timestampMs: at + offset,
    });
    await store.write([point('acme', "o'hare", 2000, 12.5), point('acme', "o'hare", 1000, 11), point('globex', "o'hare", 1500, 99), point('acme', "o'hare", 9000, 50)]);
    const points = await store.query('crlf_keepalive', { filter: { tenant: 'acme', site: "o'hare" }, fromMs: at, toMs: at + 5000 });
    expect(points.map((p) => [p.timestampMs - at, p.fields.rtt_ms, p.fields.pong, p.tags.tenant])).toEqual([
      [1000, 11, true, 'acme'],
      [2000, 12.5, true, 'acme'],
    ]);
    await expect(store.query('crlf_keepalive', { filter: { nope: 'x' }, fromMs: at, toMs: at + 1 })).rejects.toThrow('crlf_keepalive has no tag nope');
  });
});

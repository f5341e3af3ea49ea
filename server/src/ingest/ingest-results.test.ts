import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore, Site } from '../relational/relational-store.js';
import { createSqliteTestDatabase, type TestDatabase } from '../relational/test-databases.js';
import type { RangeQuery, StoredPoint, TimeSeriesStore } from '../storage/time-series.js';
import { STORAGE_UNAVAILABLE, ingestResults, type IngestDeps } from './ingest-results.js';

/** An in-memory TimeSeriesStore whose disk can be made "full" (write rejects, nothing kept). */
class FlakySeriesStore implements TimeSeriesStore {
  readonly points: StoredPoint[] = [];
  full = false;
  async write(points: StoredPoint[]): Promise<void> {
    if (this.full) throw new Error('ENOSPC: no space left on device');
    this.points.push(...points);
  }
  async query(measurement: StoredPoint['measurement'], query: RangeQuery): Promise<StoredPoint[]> {
    return [...this.points]
      .filter((p) => p.measurement === measurement && p.timestampMs >= query.fromMs && p.timestampMs < query.toMs)
      .filter((p) => Object.entries({ ...query.filter, ...(query.site ? { site: query.site } : {}) }).every(([tag, value]) => p.tags[tag] === value))
      .sort((a, b) => a.timestampMs - b.timestampMs);
  }
  async close(): Promise<void> {}
}

let database: TestDatabase;
let relational: RelationalStore;
let site: Site;

beforeAll(async () => {
  database = await createSqliteTestDatabase();
  relational = await openRelationalStore(database.options);
  site = (await relational.createSite('ingest', 'acme')).site;
});

afterAll(async () => {
  await relational?.close();
  await database?.drop();
});

function result(): ProbeResultMessage {
  return {
    id: randomUUID(),
    probe: 'crlf-keepalive',
    target: 'pbx',
    startedAt: 1_700_000_000_000,
    durationMs: 3,
    success: true,
    points: [{ measurement: 'crlf_keepalive', tags: { target: 'pbx', transport: 'tcp', result: 'success' }, fields: { rtt_ms: 3.5, pong: true } }],
    detail: null,
  };
}

function deps(series: TimeSeriesStore, onResults?: IngestDeps['onResults']): IngestDeps {
  return { relational, timeSeries: series, log: pino({ level: 'silent' }), ...(onResults ? { onResults } : {}) };
}

describe('ingestResults', () => {
  it('acks nothing and marks nothing seen when storage fails, so the resend after recovery is stored', async () => {
    const series = new FlakySeriesStore();
    const fanned: string[] = [];
    const batch = { results: [result()] };
    const source = { site, agentId: 'a1' };
    series.full = true;
    expect(await ingestResults(deps(series, (_s, rs) => fanned.push(...rs.map((r) => r.id))), source, batch)).toEqual({ ok: false, error: STORAGE_UNAVAILABLE });
    expect(fanned).toEqual([]);

    series.full = false;
    const ids = batch.results.map((r) => r.id);
    expect(await ingestResults(deps(series, (_s, rs) => fanned.push(...rs.map((r) => r.id))), source, batch)).toEqual({ ok: true, accepted: ids });
    expect(series.points.filter((point) => point.measurement === 'crlf_keepalive')).toHaveLength(1);
    expect(fanned).toEqual(ids);
  });

  it('still acks stored results when the fan-out consumer throws', async () => {
    const series = new FlakySeriesStore();
    const batch = { results: [result()] };
    const reply = await ingestResults(
      deps(series, () => {
        throw new Error('dashboard down');
      }),
      { site, agentId: 'a1' },
      batch,
    );
    expect(reply).toEqual({ ok: true, accepted: [batch.results[0]?.id] });
    expect(series.points.filter((point) => point.measurement === 'crlf_keepalive')).toHaveLength(1);
  });

  it('stores a result repeated inside one batch once and acks its id once', async () => {
    const series = new FlakySeriesStore();
    const repeated = result();
    const reply = await ingestResults(deps(series), { site, agentId: 'a1' }, { results: [repeated, repeated] });
    expect(reply).toEqual({ ok: true, accepted: [repeated.id] });
    expect(series.points.filter((point) => point.measurement === 'crlf_keepalive')).toHaveLength(1);
  });

  it('acks an identical resend as a duplicate without storing it again, and refuses other content under a known id', async () => {
    const series = new FlakySeriesStore();
    const fanned: string[] = [];
    const first = result();
    const source = { site, agentId: 'a1' };
    const ingest = (results: unknown[]) => ingestResults(deps(series, (_s, rs) => fanned.push(...rs.map((r) => r.id))), source, { results });
    expect(await ingest([first])).toEqual({ ok: true, accepted: [first.id] });
    // Keys in another order are the same content.
    const reordered = Object.fromEntries(Object.entries(first).reverse());
    expect(await ingest([reordered])).toEqual({ ok: true, accepted: [first.id] });

    const later = { ...first, startedAt: first.startedAt + 60_000 };
    const elsewhere = { ...first, target: 'other-pbx' };
    const fresh = result();
    const reply = await ingest([later, fresh, elsewhere]);
    expect(reply).toEqual({
      ok: true,
      accepted: [fresh.id],
      rejected: [{ id: first.id, error: `result ${first.id} was already stored with other content: a result id is used once per site` }],
    });
    expect(series.points.filter((point) => point.measurement === 'probe_run').map((point) => [point.tags.target, point.timestampMs])).toEqual([
      ['pbx', first.startedAt],
      ['pbx', fresh.startedAt],
    ]);
    expect(fanned).toEqual([first.id, fresh.id]);
  });

  it('refuses a known id sent by another agent of the site (its rows would carry another agent tag)', async () => {
    const series = new FlakySeriesStore();
    const shared = result();
    expect(await ingestResults(deps(series), { site, agentId: 'a1' }, { results: [shared] })).toEqual({ ok: true, accepted: [shared.id] });
    const reply = await ingestResults(deps(series), { site, agentId: 'a2' }, { results: [shared] });
    expect(reply).toMatchObject({ ok: true, accepted: [], rejected: [{ id: shared.id }] });
    expect(series.points.filter((point) => point.measurement === 'probe_run')).toHaveLength(1);
  });

  it('acks a resend of a result stored before fingerprints were kept as a duplicate', async () => {
    const series = new FlakySeriesStore();
    const old = result();
    // What an id marked seen by a server before migration 0007 looks like: no fingerprint.
    await relational.markResultsSeen(site.id, [old.id]);
    expect(await ingestResults(deps(series), { site, agentId: 'a1' }, { results: [{ ...old, startedAt: old.startedAt + 1 }] })).toEqual({ ok: true, accepted: [old.id] });
    expect(series.points).toEqual([]);
  });
});

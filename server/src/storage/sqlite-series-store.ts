/**
 * SqliteTimeSeriesStore is the embedded time-series store used when no InfluxDB is configured: one
 * better-sqlite3 file, `<dataDir>/time-series.sqlite`, in WAL mode with synchronous=FULL (a commit
 * is on disk before write() resolves).
 *
 * One table per measurement, named like it: `time_ms INTEGER`, one TEXT column per tag (`''` when
 * absent, so the UNIQUE index can tell series apart: SQLite treats NULLs as all distinct) and one
 * typed column per field (REAL, INTEGER, INTEGER 0/1 for booleans, TEXT). UNIQUE(tags…, time_ms)
 * with an upsert stores the same point once, and like InfluxDB a later write of it overwrites the
 * fields it carries and keeps the others.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { MEASUREMENT_NAMES, type FieldType, type MeasurementName } from '@algwatch/protocol/measurements';
import { fieldTypes, seriesTags, storedPointProblem } from './point-check.js';
import { PointBatcher } from './point-batcher.js';
import type { RangeQuery, StoredPoint, TagFilter, TimeSeriesStore } from './time-series.js';

export interface SqliteSeriesStoreOptions {
  dataDir: string;
  log?: Logger;
  /** Points per transaction at most (default 5000). */
  batchSize?: number;
  /** How long a point may wait for its transaction (default 50 ms). */
  flushIntervalMs?: number;
}

export type { RangeQuery, TagFilter };

const SQL_TYPES: Record<FieldType, string> = { float: 'REAL', integer: 'INTEGER', boolean: 'INTEGER', string: 'TEXT' };

type Row = Record<string, string | number | null>;

export class SqliteTimeSeriesStore implements TimeSeriesStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly log: Logger;
  private readonly batcher: PointBatcher;
  private readonly upserts = new Map<MeasurementName, Database.Statement>();
  private readonly insertBatch: (batch: StoredPoint[]) => void;
  private closed = false;

  /** The constructor opens (or creates) the file and brings every measurement's table up to the schema; throws on an unusable file. */
  constructor(private readonly options: SqliteSeriesStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.path = join(options.dataDir, 'time-series.sqlite');
    this.log = (options.log ?? pino({ level: 'silent' })).child({ component: 'sqlite-series-store' });
    this.db = new Database(this.path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.transaction(() => MEASUREMENT_NAMES.forEach((measurement) => this.migrate(measurement)))();
      for (const measurement of MEASUREMENT_NAMES) this.upserts.set(measurement, this.prepareUpsert(measurement));
    } catch (err) {
      this.db.close();
      throw new Error(`cannot open the time-series file ${this.path}: ${(err as Error).message}`);
    }
    this.insertBatch = this.db.transaction((batch: StoredPoint[]) => {
      for (const point of batch) this.upserts.get(point.measurement)!.run(toRow(point));
    });
    this.batcher = new PointBatcher(async (batch) => this.persist(batch), {
      maxPoints: options.batchSize ?? 5000,
      maxDelayMs: options.flushIntervalMs ?? 50,
    });
  }

  /**
   * write resolves once the points are committed. Points that break the schema are logged and set
   * aside in `<dataDir>/sqlite-rejected.ndjson`. Rejects with one line when the disk is full.
   */
  async write(points: StoredPoint[]): Promise<void> {
    if (this.closed) throw new Error('SqliteTimeSeriesStore.write called after close()');
    const valid: StoredPoint[] = [];
    for (const point of points) {
      const problem = storedPointProblem(point);
      if (problem) this.setAside(point, problem);
      else valid.push(point);
    }
    await this.batcher.add(valid);
  }

  /**
   * latest returns the newest point of each group (by default each site) among the series that
   * match the filter; `groupBy: ['site', 'target']` gives one per site and target.
   */
  latest(measurement: MeasurementName, filter: TagFilter = {}, groupBy: readonly string[] = ['site']): StoredPoint[] {
    const tags = seriesTags(measurement);
    for (const tag of groupBy) assertTag(measurement, tags, tag);
    const { sql: where, values } = whereTags(measurement, tags, filter);
    const groups = groupBy.map(quote).join(', ');
    // SQLite takes the bare columns of an aggregate query from the row holding max(): the newest one.
    const sql = `SELECT *, max(time_ms) AS latest_time_ms FROM ${quote(measurement)}${where ? ` WHERE ${where}` : ''} GROUP BY ${groups} ORDER BY ${groups}`;
    return this.db
      .prepare(sql)
      .all(...values)
      .map((row) => fromRow(measurement, row as Row));
  }

  /** range returns the points in [fromMs, toMs), oldest first, of one site (or all) and the filter's series. */
  range(measurement: MeasurementName, query: RangeQuery): StoredPoint[] {
    const tags = seriesTags(measurement);
    const filter = query.site === undefined ? { ...query.filter } : { ...query.filter, site: query.site };
    const { sql: where, values } = whereTags(measurement, tags, filter);
    const sql = `SELECT * FROM ${quote(measurement)} WHERE time_ms >= ? AND time_ms < ?${where ? ` AND ${where}` : ''} ORDER BY time_ms, rowid LIMIT ?`;
    return this.db
      .prepare(sql)
      .all(query.fromMs, query.toMs, ...values, query.limit ?? 10_000)
      .map((row) => fromRow(measurement, row as Row));
  }

  /** query is range() behind the TimeSeriesStore interface. */
  async query(measurement: MeasurementName, query: RangeQuery): Promise<StoredPoint[]> {
    return this.range(measurement, query);
  }

  /** close commits what is buffered and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.batcher.flush();
    this.db.close();
  }

  private async persist(batch: StoredPoint[]): Promise<void> {
    try {
      this.insertBatch(batch);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const reason = code === 'SQLITE_FULL' ? `disk full (SQLITE_FULL) at ${this.path}` : (err as Error).message;
      throw new Error(`cannot keep ${batch.length} points: ${reason}`);
    }
  }

  /** migrate creates the measurement's table, adds columns the schema gained, and keeps the UNIQUE index on every tag. */
  private migrate(measurement: MeasurementName): void {
    const table = quote(measurement);
    const tags = seriesTags(measurement);
    const fields = Object.entries(fieldTypes(measurement));
    const existing = new Set((this.db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name));
    if (existing.size === 0) {
      const columns = ['time_ms INTEGER NOT NULL', ...tags.map((tag) => `${quote(tag)} TEXT NOT NULL DEFAULT ''`)];
      columns.push(...fields.map(([field, type]) => `${quote(field)} ${SQL_TYPES[type]}`));
      this.db.exec(`CREATE TABLE ${table} (${columns.join(', ')})`);
      existing.add('time_ms');
      tags.forEach((tag) => existing.add(tag));
      fields.forEach(([field]) => existing.add(field));
    }
    let tagsAdded = false;
    for (const tag of tags) {
      if (existing.has(tag)) continue;
      this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${quote(tag)} TEXT NOT NULL DEFAULT ''`);
      tagsAdded = true;
    }
    for (const [field, type] of fields) {
      if (!existing.has(field)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${quote(field)} ${SQL_TYPES[type]}`);
    }
    const unique = quote(`${measurement}_series_time`);
    if (tagsAdded) this.db.exec(`DROP INDEX IF EXISTS ${unique}`);
    this.db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS ${unique} ON ${table} (${[...tags, 'time_ms'].map(quote).join(', ')})`);
    this.db.exec(`CREATE INDEX IF NOT EXISTS ${quote(`${measurement}_site_time`)} ON ${table} (site, time_ms)`);
  }

  private prepareUpsert(measurement: MeasurementName): Database.Statement {
    const tags = seriesTags(measurement);
    const fields = Object.keys(fieldTypes(measurement));
    const columns = ['time_ms', ...tags, ...fields];
    const updates = fields.map((field) => `${quote(field)} = coalesce(excluded.${quote(field)}, ${quote(field)})`);
    return this.db.prepare(
      `INSERT INTO ${quote(measurement)} (${columns.map(quote).join(', ')}) VALUES (${columns.map((column) => `@${column}`).join(', ')}) ` +
        `ON CONFLICT (${[...tags, 'time_ms'].map(quote).join(', ')}) DO UPDATE SET ${updates.join(', ')}`,
    );
  }

  private setAside(point: StoredPoint, reason: string): void {
    const file = join(this.options.dataDir, 'sqlite-rejected.ndjson');
    this.log.error({ reason, file }, 'time-series point breaks the schema: set aside');
    try {
      appendFileSync(file, JSON.stringify({ atMs: Date.now(), reason, points: [point] }) + '\n');
    } catch (err) {
      this.log.error({ err: (err as Error).message, file }, 'could not set the point aside: dropped');
    }
  }
}

/** toRow binds a point to the upsert: every tag ('' when absent), every field (null when absent). */
function toRow(point: StoredPoint): Row {
  const row: Row = { time_ms: Math.trunc(point.timestampMs) };
  for (const tag of seriesTags(point.measurement)) row[tag] = point.tags[tag] ?? '';
  for (const field of Object.keys(fieldTypes(point.measurement))) {
    const value = point.fields[field];
    row[field] = value === undefined ? null : typeof value === 'boolean' ? Number(value) : value;
  }
  return row;
}

function fromRow(measurement: MeasurementName, row: Row): StoredPoint {
  const tags: Record<string, string> = {};
  for (const tag of seriesTags(measurement)) {
    const value = row[tag];
    if (typeof value === 'string' && value !== '') tags[tag] = value;
  }
  const fields: StoredPoint['fields'] = {};
  for (const [field, type] of Object.entries(fieldTypes(measurement))) {
    const value = row[field];
    if (value === null || value === undefined) continue;
    fields[field] = type === 'boolean' ? value === 1 : value;
  }
  return { measurement, tags, fields, timestampMs: Number(row.time_ms) };
}

function whereTags(measurement: MeasurementName, tags: readonly string[], filter: TagFilter): { sql: string; values: string[] } {
  const entries = Object.entries(filter);
  for (const [tag] of entries) assertTag(measurement, tags, tag);
  return { sql: entries.map(([tag]) => `${quote(tag)} = ?`).join(' AND '), values: entries.map(([, value]) => value) };
}

/** assertTag keeps identifiers in SQL to the schema's own tag names. */
function assertTag(measurement: MeasurementName, tags: readonly string[], tag: string): void {
  if (!tags.includes(tag)) throw new Error(`${measurement} has no tag ${tag}: use one of ${tags.join(', ')}`);
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

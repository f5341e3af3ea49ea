/**
 * InfluxTimeSeriesStore writes points to InfluxDB 1.x in batches and never loses one it accepted:
 * while InfluxDB is unreachable (or answers 5xx) batches go to an fsync'd spool on disk, and a
 * background task drains the spool into InfluxDB, in order, once it answers again.
 *
 * States: `direct` (spool empty; batches go straight to InfluxDB) and `spooling` (every batch is
 * appended to the spool, so nothing overtakes what waits there; the drainer switches back to
 * `direct` once the spool is empty). A batch InfluxDB refuses as bad data (400) is logged and set
 * aside in `<dataDir>/influx-rejected.ndjson` so it cannot block the spool.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InfluxDB, IPoint } from 'influx';
import { pino, type Logger } from 'pino';
import { createInfluxClient, ensureInfluxSchema, RAW_RETENTION, type InfluxTarget } from './influx-schema.js';
import { storedPointProblem } from './point-check.js';
import { PointBatcher } from './point-batcher.js';
import { Spool } from './spool.js';
import type { RangeQuery, StoredPoint, TimeSeriesStore } from './time-series.js';
import { fieldTypes, seriesTags } from './point-check.js';
import type { MeasurementName } from '@algwatch/protocol/measurements';

export interface InfluxStoreOptions {
  /** `http(s)://[user:pass@]HOST:PORT/DATABASE` */
  url: string;
  /** The spool lives in `<dataDir>/influx-spool`, set-aside batches in `<dataDir>/influx-rejected.ndjson`. */
  dataDir: string;
  log?: Logger;
  /** Points per InfluxDB write (default 5000). */
  batchSize?: number;
  /** How long a point may wait for its batch to fill (default 150 ms). */
  flushIntervalMs?: number;
  /** An InfluxDB request taking longer counts as unreachable (default 10 s). */
  requestTimeoutMs?: number;
  /** Spool size cap; write() rejects beyond it (default 1 GiB). */
  spoolMaxBytes?: number;
  /** Drain retry back-off, doubling from min to max (defaults 250 ms and 30 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Told the duration of every write to InfluxDB (direct or from the spool) and whether it worked. */
  onWrite?: (seconds: number, ok: boolean) => void;
}

export type InfluxStoreState = 'direct' | 'spooling';

const WRITE_OPTIONS = { precision: 'ms', retentionPolicy: RAW_RETENTION.name } as const;

export class InfluxTimeSeriesStore implements TimeSeriesStore {
  readonly influx: InfluxDB;
  readonly target: InfluxTarget;
  private readonly log: Logger;
  private readonly batcher: PointBatcher;
  private spool: Spool<StoredPoint[]> | undefined;
  private mode: InfluxStoreState = 'spooling';
  private schemaReady = false;
  private drainer: Promise<void> | undefined;
  private readonly closing = new AbortController();
  private readonly rejectedPath: string;

  constructor(private readonly options: InfluxStoreOptions) {
    ({ influx: this.influx, target: this.target } = createInfluxClient(options.url, options.requestTimeoutMs));
    this.log = (options.log ?? pino({ level: 'silent' })).child({ component: 'influx-store' });
    this.batcher = new PointBatcher((batch) => this.persist(batch), {
      maxPoints: options.batchSize ?? 5000,
      maxDelayMs: options.flushIntervalMs ?? 150,
    });
    this.rejectedPath = join(options.dataDir, 'influx-rejected.ndjson');
  }

  /**
   * start opens the spool and sets up the database (retention policies, continuous queries). An
   * unreachable InfluxDB is not an error: the store spools until it answers. Rejects (one line) for
   * what waiting cannot fix: wrong credentials, missing rights, an unusable data dir.
   */
  async start(): Promise<void> {
    this.spool = await Spool.open<StoredPoint[]>({
      dir: join(this.options.dataDir, 'influx-spool'),
      maxBytes: this.options.spoolMaxBytes,
      onCorruptLine: (segment, offset) => this.log.warn({ segment, offset }, 'skipped a torn spool line (a crash cut it mid-write; it was never acknowledged)'),
    });
    try {
      await ensureInfluxSchema(this.influx, this.target.database);
      this.schemaReady = true;
    } catch (err) {
      if (!isRetryable(err)) {
        throw new Error(`InfluxDB at ${this.target.redactedUrl} refused the schema setup: ${oneLine(err)}`);
      }
      this.log.warn({ url: this.target.redactedUrl, err: oneLine(err) }, 'InfluxDB unreachable at start: spooling until it answers');
    }
    if (this.schemaReady && this.spool.isEmpty) this.mode = 'direct';
    else this.startDrainer();
  }

  /** state is `direct` while InfluxDB takes writes, `spooling` while batches wait on disk. */
  get state(): InfluxStoreState {
    return this.mode;
  }

  /** spooledBytes is what waits on disk for InfluxDB. */
  get spooledBytes(): number {
    return this.spool?.sizeBytes ?? 0;
  }

  /**
   * write resolves once every point is in InfluxDB or fsync'd in the spool. Points that break the
   * schema are logged and set aside, never written. Rejects with one line when the points cannot be
   * kept at all: disk full (ENOSPC) or spool full.
   */
  async write(points: StoredPoint[]): Promise<void> {
    if (!this.spool) throw new Error('InfluxTimeSeriesStore.write called before start()');
    if (this.closing.signal.aborted) throw new Error('InfluxTimeSeriesStore.write called after close()');
    const valid: StoredPoint[] = [];
    for (const point of points) {
      const problem = storedPointProblem(point);
      if (problem) await this.setAside([point], problem);
      else valid.push(point);
    }
    await this.batcher.add(valid);
  }

  /**
   * query reads raw points (the 30-day policy) of one measurement in [fromMs, toMs) whose tags
   * match, oldest first. Tag names are checked against the schema; values are InfluxQL-escaped.
   */
  async query(measurement: MeasurementName, query: RangeQuery): Promise<StoredPoint[]> {
    const tags = seriesTags(measurement);
    const filter = query.site === undefined ? { ...query.filter } : { ...query.filter, site: query.site };
    const conditions = [`time >= ${Math.trunc(query.fromMs)}ms`, `time < ${Math.trunc(query.toMs)}ms`];
    for (const [tag, value] of Object.entries(filter)) {
      if (!tags.includes(tag)) throw new Error(`${measurement} has no tag ${tag}: use one of ${tags.join(', ')}`);
      conditions.push(`"${tag}" = '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
    }
    const influxql = `SELECT * FROM "${RAW_RETENTION.name}"."${measurement}" WHERE ${conditions.join(' AND ')} ORDER BY time ASC LIMIT ${Math.trunc(query.limit ?? 10_000)}`;
    const raw = (await this.influx.queryRaw(influxql, { database: this.target.database, precision: 'ms' })) as {
      results: Array<{ error?: string; series?: Array<{ columns: string[]; values: unknown[][] }> }>;
    };
    const result = raw.results[0];
    if (result?.error) throw new Error(`InfluxDB query failed: ${result.error}`);
    const fields = fieldTypes(measurement);
    return (result?.series ?? []).flatMap((series) =>
      series.values.map((row) => {
        const point: StoredPoint = { measurement, tags: {}, fields: {}, timestampMs: Number(row[0]) };
        series.columns.forEach((column, index) => {
          const value = row[index];
          if (index === 0 || value === null || value === undefined) return;
          if (tags.includes(column)) point.tags[column] = String(value);
          else if (fields[column] !== undefined && (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string')) point.fields[column] = value;
        });
        return point;
      }),
    );
  }

  /** close writes what is buffered (to InfluxDB or the spool), stops the drainer and closes the spool. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    await this.batcher.flush();
    this.closing.abort();
    await this.drainer;
    await this.spool?.close();
  }

  /** persist stores one batch; the batcher calls it for one batch at a time. */
  private async persist(batch: StoredPoint[]): Promise<void> {
    if (this.mode === 'direct') {
      try {
        await this.timedWrite(batch);
        return;
      } catch (err) {
        if (!isRetryable(err)) return this.setAside(batch, oneLine(err));
        if (statusOf(err) === 404) this.schemaReady = false; // someone dropped the database
        this.mode = 'spooling';
        this.log.warn({ url: this.target.redactedUrl, err: oneLine(err) }, 'InfluxDB write failed: spooling to disk until it answers');
      }
    }
    try {
      await this.spool!.append(batch);
    } catch (err) {
      throw new Error(`cannot keep ${batch.length} points: ${oneLine(err)}`);
    }
    this.startDrainer();
  }

  private startDrainer(): void {
    if (this.drainer || this.closing.signal.aborted) return;
    this.drainer = this.drain()
      .catch((err: unknown) => this.log.error({ err: oneLine(err) }, 'spool drainer stopped'))
      .finally(() => {
        this.drainer = undefined;
        // A batch spooled while the drainer was finishing needs a new one.
        if (this.mode === 'spooling' && !this.closing.signal.aborted) this.startDrainer();
      });
  }

  /** drain writes spooled batches to InfluxDB, oldest first, until the spool is empty or close(). */
  private async drain(): Promise<void> {
    const spool = this.spool!;
    const minDelay = this.options.retryMinMs ?? 250;
    const maxDelay = this.options.retryMaxMs ?? 30_000;
    let delay = minDelay;
    let failures = 0;
    let drained = 0;
    while (!this.closing.signal.aborted) {
      try {
        if (!this.schemaReady) {
          await ensureInfluxSchema(this.influx, this.target.database);
          this.schemaReady = true;
        }
        const next = await spool.peek();
        if (!next) {
          // Checked between two batches: no append can slip in between the check and the switch.
          const empty = await this.batcher.exclusive(async () => {
            if (spool.isEmpty) this.mode = 'direct';
            return spool.isEmpty;
          });
          if (empty) break;
          continue;
        }
        try {
          await this.timedWrite(next.record);
        } catch (err) {
          if (isRetryable(err)) throw err;
          await this.setAside(next.record, oneLine(err));
        }
        await next.ack();
        drained += 1;
        delay = minDelay;
        failures = 0;
      } catch (err) {
        if (statusOf(err) === 404) this.schemaReady = false;
        failures += 1;
        // One warning when the outage starts, then one per ~10 attempts: a long outage must not flood the log.
        if (failures === 1 || failures % 10 === 0) {
          this.log.warn({ url: this.target.redactedUrl, err: oneLine(err), failures, spooledBytes: spool.sizeBytes }, 'InfluxDB still unavailable: spool kept');
        }
        await sleep(delay, this.closing.signal);
        delay = Math.min(maxDelay, delay * 2);
      }
    }
    if (drained > 0) this.log.info({ batches: drained, state: this.mode }, 'drained spooled batches into InfluxDB');
  }

  /** timedWrite writes one batch to InfluxDB and tells options.onWrite how long it took and whether it worked. */
  private async timedWrite(points: StoredPoint[]): Promise<void> {
    const started = performance.now();
    let ok = false;
    try {
      await this.influx.writePoints(points.map(toInfluxPoint), { ...WRITE_OPTIONS, database: this.target.database });
      ok = true;
    } finally {
      this.options.onWrite?.((performance.now() - started) / 1000, ok);
    }
  }

  /** setAside keeps a batch InfluxDB (or the schema) refused where a person can inspect it. */
  private async setAside(points: StoredPoint[], reason: string): Promise<void> {
    this.log.error({ points: points.length, reason, file: this.rejectedPath }, 'time-series points refused as bad data: set aside');
    const entry = JSON.stringify({ atMs: Date.now(), reason, points }) + '\n';
    await appendFile(this.rejectedPath, entry).catch((err: unknown) =>
      this.log.error({ err: oneLine(err), file: this.rejectedPath }, 'could not set refused points aside: dropped'),
    );
  }
}

/**
 * writeDirect writes points straight to InfluxDB in sequential batches of batchSize, with no spool,
 * no retry and no validation: the baseline the ingest benchmark compares the store against. Rejects
 * with the first failed batch's error.
 */
export async function writeDirect(influx: InfluxDB, points: StoredPoint[], batchSize = 5000, database?: string): Promise<void> {
  for (let start = 0; start < points.length; start += batchSize) {
    const batch = points.slice(start, start + batchSize).map(toInfluxPoint);
    await influx.writePoints(batch, database ? { ...WRITE_OPTIONS, database } : WRITE_OPTIONS);
  }
}

/** toInfluxPoint passes the time as a string of milliseconds (precision 'ms'); a number 0 would mean "now". */
function toInfluxPoint(point: StoredPoint): IPoint {
  return { measurement: point.measurement, tags: point.tags, fields: point.fields, timestamp: String(Math.trunc(point.timestampMs)) };
}

/** statusOf is the HTTP status of an `influx` RequestError, if the error is one. */
function statusOf(err: unknown): number | undefined {
  const res = (err as { res?: { statusCode?: unknown } } | null)?.res;
  return typeof res?.statusCode === 'number' ? res.statusCode : undefined;
}

/**
 * isRetryable: waiting can fix network errors, timeouts, 5xx, and 401/403/404 (credentials, rights
 * or a dropped database get fixed by a person; the points wait meanwhile). A 400/413/422 is bad
 * data, and so is an error the client raised before sending (a schema mismatch): retrying cannot help.
 */
function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status !== 400 && status !== 413 && status !== 422;
  if (err instanceof Error && err.constructor.name === 'ServiceNotAvailableError') return true;
  return typeof (err as { code?: unknown } | null)?.code === 'string';
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
  return text.replace(/\s+/g, ' ').trim();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

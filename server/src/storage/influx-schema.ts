/**
 * The InfluxDB 1.x layout algwatch writes: one database, retention policies `raw` (30 days, the
 * default, where ingest writes) and `hourly` (400 days, filled by one continuous query per
 * measurement), and every field's type fixed from the MEASUREMENTS schema.
 */
import { InfluxDB, FieldType as InfluxFieldType, type IPoolOptions, type ISchemaOptions, type ISingleHostConfig } from 'influx';
import { MEASUREMENT_NAMES, type FieldType, type MeasurementName } from '@algwatch/protocol/measurements';
import { fieldTypes, seriesTags } from './point-check.js';

export const DEFAULT_INFLUX_DATABASE = 'algwatch';

export const RAW_RETENTION = { name: 'raw', duration: '30d' } as const;
export const HOURLY_RETENTION = { name: 'hourly', duration: '400d' } as const;

/**
 * Late points (an agent's outbox flushed after an outage) land in raw after their hour was rolled
 * up; recomputing the last 6 hours on every run takes them in at the cost of 6 small queries.
 */
export const ROLLUP_RESAMPLE = 'RESAMPLE EVERY 1h FOR 6h';

const INFLUX_TYPES: Record<FieldType, InfluxFieldType> = {
  float: InfluxFieldType.FLOAT,
  integer: InfluxFieldType.INTEGER,
  boolean: InfluxFieldType.BOOLEAN,
  string: InfluxFieldType.STRING,
};

/** InfluxTarget is a parsed InfluxDB URL: where to connect, which database, and a loggable form. */
export interface InfluxTarget {
  host: ISingleHostConfig;
  database: string;
  /** The URL with any password replaced by `***`. */
  redactedUrl: string;
}

/**
 * parseInfluxUrl reads `http(s)://[user:pass@]HOST[:PORT][/DATABASE]` (port 8086 and database
 * `algwatch` by default). Throws one line naming the problem for anything else.
 */
export function parseInfluxUrl(url: string): InfluxTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`InfluxDB URL "${url}" is not a URL: use http://HOST:8086/DATABASE`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`InfluxDB URL must start with http:// or https://, not ${parsed.protocol}//`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, '')) || DEFAULT_INFLUX_DATABASE;
  if (database.includes('/')) throw new Error(`InfluxDB URL path must be just the database name, not "${database}"`);
  const host: ISingleHostConfig = {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 8086,
    protocol: parsed.protocol === 'https:' ? 'https' : 'http',
    database,
  };
  if (parsed.username) {
    host.username = decodeURIComponent(parsed.username);
    host.password = decodeURIComponent(parsed.password);
  }
  const redacted = new URL(parsed.href);
  if (redacted.password) redacted.password = '***';
  return { host, database, redactedUrl: redacted.href };
}

/** influxSchemas gives the influx package every measurement's tags and field types, so it writes
 * `5i` for an integer field and refuses an unknown field instead of inventing its type. */
export function influxSchemas(database: string): ISchemaOptions[] {
  return MEASUREMENT_NAMES.map((measurement) => ({
    measurement,
    database,
    tags: seriesTags(measurement),
    fields: Object.fromEntries(Object.entries(fieldTypes(measurement)).map(([name, type]) => [name, INFLUX_TYPES[type]])),
  }));
}

/**
 * createInfluxClient builds an `influx` client for the URL with the schemas set. Its own retries and
 * host back-off are off: the store's spool retries, and a host the pool had disabled would keep
 * refusing for seconds after InfluxDB came back.
 */
export function createInfluxClient(url: string, requestTimeoutMs = 10_000): { influx: InfluxDB; target: InfluxTarget } {
  const target = parseInfluxUrl(url);
  const noBackoff: NonNullable<IPoolOptions['backoff']> = {
    getDelay: () => 0,
    next: () => noBackoff,
    reset: () => noBackoff,
  };
  const influx = new InfluxDB({
    ...target.host,
    schema: influxSchemas(target.database),
    pool: { maxRetries: 0, requestTimeout: requestTimeoutMs, backoff: noBackoff },
  });
  return { influx, target };
}

/** rollupName is the continuous query that fills `hourly.<measurement>`. */
export function rollupName(measurement: MeasurementName): string {
  return `cq_${measurement}_hourly`;
}

/** trueCountRollupName is the continuous query counting a boolean field's `true` values per hour. */
export function trueCountRollupName(measurement: MeasurementName, field: string): string {
  return `cq_${measurement}_${field}_true_hourly`;
}

/**
 * rollupSelect is the SELECT … INTO of a measurement's hourly rollup, without the time range a
 * continuous query adds itself: `<f>_mean`, `<f>_max`, `<f>_min` of every numeric field and
 * `<f>_count` of every field, per hour and per series (GROUP BY *: all tags are kept).
 */
export function rollupSelect(database: string, measurement: MeasurementName, where = ''): string {
  const columns: string[] = [];
  for (const [field, type] of Object.entries(fieldTypes(measurement))) {
    const f = quote(field);
    if (type === 'float' || type === 'integer') {
      columns.push(`mean(${f}) AS ${quote(`${field}_mean`)}`, `max(${f}) AS ${quote(`${field}_max`)}`, `min(${f}) AS ${quote(`${field}_min`)}`);
    }
    columns.push(`count(${f}) AS ${quote(`${field}_count`)}`);
  }
  return `SELECT ${columns.join(', ')} ${intoFrom(database, measurement)}${where} GROUP BY time(1h), *`;
}

/** trueCountSelect counts a boolean field's `true` values per hour into `<f>_true` (InfluxQL cannot sum booleans). */
export function trueCountSelect(database: string, measurement: MeasurementName, field: string, where = ''): string {
  const condition = `${quote(field)} = true`;
  const clause = where ? `${where} AND ${condition}` : ` WHERE ${condition}`;
  return `SELECT count(${quote(field)}) AS ${quote(`${field}_true`)} ${intoFrom(database, measurement)}${clause} GROUP BY time(1h), *`;
}

/** RollupQuery is one continuous query: its name and its SELECT. */
export interface RollupQuery {
  name: string;
  select: string;
}

/** rollupQueries lists every continuous query algwatch keeps in the database. */
export function rollupQueries(database: string): RollupQuery[] {
  return MEASUREMENT_NAMES.flatMap((measurement) => [
    { name: rollupName(measurement), select: rollupSelect(database, measurement) },
    ...Object.entries(fieldTypes(measurement))
      .filter(([, type]) => type === 'boolean')
      .map(([field]) => ({ name: trueCountRollupName(measurement, field), select: trueCountSelect(database, measurement, field) })),
  ]);
}

/**
 * ensureInfluxSchema creates the database, sets the retention policies (raw the default) and
 * (re)creates the continuous queries; safe to run on every start. Rejects with the server's error
 * when InfluxDB is unreachable or the user lacks admin rights.
 */
export async function ensureInfluxSchema(influx: InfluxDB, database: string): Promise<void> {
  await influx.createDatabase(database);
  const existing = new Set((await influx.showRetentionPolicies(database)).map((policy) => policy.name));
  for (const policy of [RAW_RETENTION, HOURLY_RETENTION]) {
    const options = { database, duration: policy.duration, replication: 1, isDefault: policy === RAW_RETENTION };
    if (existing.has(policy.name)) await influx.alterRetentionPolicy(policy.name, options);
    else await influx.createRetentionPolicy(policy.name, options);
  }
  for (const { name, select } of rollupQueries(database)) {
    try {
      await influx.createContinuousQuery(name, select, database, ROLLUP_RESAMPLE);
    } catch (err) {
      // InfluxDB refuses to redefine a query under an existing name: the schema changed, replace it.
      if (!String(err).includes('already exists')) throw err;
      await influx.dropContinuousQuery(name, database);
      await influx.createContinuousQuery(name, select, database, ROLLUP_RESAMPLE);
    }
  }
}

function intoFrom(database: string, measurement: MeasurementName): string {
  const db = quote(database);
  const m = quote(measurement);
  return `INTO ${db}.${quote(HOURLY_RETENTION.name)}.${m} FROM ${db}.${quote(RAW_RETENTION.name)}.${m}`;
}

/** quote makes an InfluxQL identifier (double quotes, backslash escapes). */
function quote(identifier: string): string {
  return `"${identifier.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

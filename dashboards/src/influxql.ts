/**
 * Schema-typed pieces of InfluxQL for the dashboards: a measurement's fields and tags can only be
 * named as they are in protocol/src/measurements.ts (a typo is a compile error), and every
 * identifier comes out double-quoted, which is also what test/dashboards.test.ts expects when it
 * checks the generated queries against the schema.
 */
import { MEASUREMENTS, type INGEST_TAGS, type MeasurementName } from '@algwatch/protocol/measurements';

type Schema<M extends MeasurementName> = (typeof MEASUREMENTS)[M];
type FieldName<M extends MeasurementName> = keyof Schema<M>['fields'] & string;
type TagName<M extends MeasurementName> = Schema<M>['tags'][number] | (typeof INGEST_TAGS)[number];
type FieldOfType<M extends MeasurementName, T> = { [F in FieldName<M>]: Schema<M>['fields'][F] extends T ? F : never }[FieldName<M>];

/** The suffixes the hourly continuous queries give a field (server/src/storage/influx-schema.ts rollupSelect). */
export type NumericRollup = 'mean' | 'max' | 'min';

/** MeasurementRef names one measurement's retention-policy paths, fields and tags as quoted InfluxQL. */
export interface MeasurementRef<M extends MeasurementName> {
  name: M;
  /** `"raw"."<m>"`: every point, 30 days. */
  raw: string;
  /** `"hourly"."<m>"`: the continuous-query rollup, 400 days. */
  hourly: string;
  field(name: FieldName<M>): string;
  tag(name: TagName<M>): string;
  /** A numeric field's hourly `<f>_mean` / `<f>_max` / `<f>_min`. */
  rollup(name: FieldOfType<M, 'float' | 'integer'>, kind: NumericRollup): string;
  /** A boolean field's hourly `<f>_true`: how many results that hour had it true. */
  trueCount(name: FieldOfType<M, 'boolean'>): string;
}

/** measurement gives the quoted InfluxQL names of one measurement of the schema. */
export function measurement<M extends MeasurementName>(name: M): MeasurementRef<M> {
  return {
    name,
    raw: `${quote('raw')}.${quote(name)}`,
    hourly: `${quote('hourly')}.${quote(name)}`,
    field: (field) => quote(field),
    tag: (tag) => quote(tag),
    rollup: (field, kind) => quote(`${field}_${kind}`),
    trueCount: (field) => quote(`${field}_true`),
  };
}

/** quote makes an InfluxQL identifier. */
export function quote(identifier: string): string {
  return `"${identifier.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * scope is the WHERE clause every panel shares: Grafana's time range and the `tenant` and `site`
 * variables. Regex matches because Grafana expands a multi-value or "All" variable to `(a|b)`.
 */
export function scope(): string {
  return `${quote('tenant')} =~ /^$tenant$/ AND ${quote('site')} =~ /^$site$/ AND $timeFilter`;
}

/** perInterval is Grafana's automatic bucket: `GROUP BY time($__interval)` plus any tags. */
export function perInterval(...tags: string[]): string {
  return ['time($__interval)', ...tags].join(', ');
}

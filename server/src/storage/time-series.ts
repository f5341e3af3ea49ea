/**
 * The time-series store behind ingest: InfluxDB when configured, SQLite files otherwise.
 * Both implement TimeSeriesStore; ingest never knows which one it writes to.
 */
import type { MeasurementName } from '@algwatch/protocol/measurements';

/** StoredPoint is a MetricPoint after ingest added tenant/site/agent tags and the result's time. */
export interface StoredPoint {
  measurement: MeasurementName;
  tags: Record<string, string>;
  fields: Record<string, number | boolean | string>;
  /** Milliseconds since the epoch: the probe's own start time, never the time of arrival. */
  timestampMs: number;
}

/** TagFilter selects series by tag values, e.g. `{ site: 'site-a', target: 'reflector' }`. */
export type TagFilter = Readonly<Record<string, string>>;

export interface RangeQuery {
  site?: string;
  /** More tags to match, like TagFilter (give `tenant` too: site names are unique per tenant only). */
  filter?: TagFilter;
  /** Inclusive start, milliseconds since the epoch. */
  fromMs: number;
  /** Exclusive end. */
  toMs: number;
  /** Most points returned (oldest first); default 10,000. */
  limit?: number;
}

export interface TimeSeriesStore {
  /**
   * write makes the points durable before it resolves: written to the database, or spooled to
   * disk when the database is unreachable. Writing the same point twice stores it once (same
   * measurement, tags and timestamp). Rejects only when the points cannot be kept at all (disk full).
   */
  write(points: StoredPoint[]): Promise<void>;
  /**
   * query returns one measurement's points in [fromMs, toMs) whose tags match, oldest first, at
   * most `limit`. Points still spooled for an unreachable database are not seen; rejects when the
   * database cannot be asked (the dashboard shows "history unavailable").
   */
  query(measurement: MeasurementName, query: RangeQuery): Promise<StoredPoint[]>;
  /** Flushes what is buffered and releases connections and files. */
  close(): Promise<void>;
}

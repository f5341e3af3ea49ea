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

export interface TimeSeriesStore {
  /**
   * write makes the points durable before it resolves: written to the database, or spooled to
   * disk when the database is unreachable. Writing the same point twice stores it once (same
   * measurement, tags and timestamp). Rejects only when the points cannot be kept at all (disk full).
   */
  write(points: StoredPoint[]): Promise<void>;
  /** Flushes what is buffered and releases connections and files. */
  close(): Promise<void>;
}

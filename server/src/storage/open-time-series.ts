/**
 * openTimeSeriesStore picks the time-series store from the configuration: InfluxDB when an URL is
 * given, otherwise the embedded SQLite file in the data dir. Ingest only ever sees TimeSeriesStore.
 */
import type { Logger } from 'pino';
import { InfluxTimeSeriesStore } from './influx-store.js';
import { SqliteTimeSeriesStore } from './sqlite-series-store.js';
import type { TimeSeriesStore } from './time-series.js';

export interface OpenTimeSeriesOptions {
  /** `http(s)://[user:pass@]HOST:PORT/DATABASE`; absent means SQLite. */
  influxUrl?: string;
  /** Holds the SQLite file, or the InfluxDB spool and set-aside batches. */
  dataDir: string;
  log?: Logger;
  /** Told the duration of every InfluxDB write and whether it worked (metrics); unused with SQLite. */
  onInfluxWrite?: (seconds: number, ok: boolean) => void;
}

/**
 * openTimeSeriesStore resolves with a started store. An unreachable InfluxDB still resolves (the
 * store spools until it answers); rejects with one line for a bad URL, refused credentials or
 * rights, or a data dir that cannot be used.
 */
export async function openTimeSeriesStore(options: OpenTimeSeriesOptions): Promise<TimeSeriesStore> {
  if (!options.influxUrl) {
    const store = new SqliteTimeSeriesStore({ dataDir: options.dataDir, log: options.log });
    options.log?.info({ path: store.path }, 'time series: embedded SQLite');
    return store;
  }
  const store = new InfluxTimeSeriesStore({
    url: options.influxUrl,
    dataDir: options.dataDir,
    log: options.log,
    ...(options.onInfluxWrite ? { onWrite: options.onInfluxWrite } : {}),
  });
  await store.start();
  options.log?.info({ url: store.target.redactedUrl, state: store.state }, 'time series: InfluxDB');
  return store;
}

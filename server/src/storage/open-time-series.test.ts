import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type RunningInfluxd } from '../../../test/helpers/influxd.js';
import { InfluxTimeSeriesStore } from './influx-store.js';
import { openTimeSeriesStore } from './open-time-series.js';
import { SqliteTimeSeriesStore } from './sqlite-series-store.js';

let influxd: RunningInfluxd;
let dataDir: string;
beforeAll(async () => {
  influxd = await startInfluxd();
  dataDir = await mkdtemp(join(tmpdir(), 'algwatch-open-series-'));
});
afterAll(async () => {
  await influxd.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('openTimeSeriesStore', () => {
  it('opens the embedded SQLite store when no InfluxDB URL is configured', async () => {
    const store = await openTimeSeriesStore({ dataDir: join(dataDir, 'sqlite') });
    expect(store).toBeInstanceOf(SqliteTimeSeriesStore);
    await store.close();
  });

  it('opens a started InfluxDB store for an InfluxDB URL', async () => {
    const store = await openTimeSeriesStore({ influxUrl: `${influxd.url}/picked`, dataDir: join(dataDir, 'influx') });
    expect(store).toBeInstanceOf(InfluxTimeSeriesStore);
    expect((store as InfluxTimeSeriesStore).state).toBe('direct');
    await store.close();
  });

  it('refuses an InfluxDB URL that is not http(s) with one line', async () => {
    await expect(openTimeSeriesStore({ influxUrl: 'udp://127.0.0.1:8089/x', dataDir })).rejects.toThrow(
      'InfluxDB URL must start with http:// or https://, not udp://',
    );
  });
});

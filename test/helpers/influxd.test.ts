import { afterAll, describe, expect, it } from 'vitest';
import { startInfluxd, type RunningInfluxd } from './influxd.js';

async function query(url: string, q: string): Promise<unknown> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ q, epoch: 'ms' })}`, { method: 'POST' });
  return res.json();
}

describe('startInfluxd', () => {
  const started: RunningInfluxd[] = [];
  afterAll(async () => {
    for (const influxd of started) await influxd.stop();
  });

  it('runs two InfluxDBs side by side on their own loopback ports', async () => {
    started.push(await startInfluxd(), await startInfluxd());
    const [a, b] = started as [RunningInfluxd, RunningInfluxd];
    expect(a.port).not.toBe(b.port);
    await query(a.url, 'CREATE DATABASE only_in_a');
    expect(JSON.stringify(await query(a.url, 'SHOW DATABASES'))).toContain('only_in_a');
    expect(JSON.stringify(await query(b.url, 'SHOW DATABASES'))).not.toContain('only_in_a');
  });

  it('keeps the data across kill and start on the same port', async () => {
    const influxd = started[0]!;
    await fetch(`${influxd.url}/write?db=only_in_a&precision=ms`, { method: 'POST', body: 'm,site=s1 v=1i 1700000000000' });
    await influxd.kill();
    await expect(fetch(`${influxd.url}/ping`)).rejects.toThrow();
    await influxd.start();
    expect(JSON.stringify(await query(influxd.url, 'SELECT v FROM only_in_a..m'))).toContain('[1700000000000');
  });

  it('removes its directory on stop', async () => {
    const influxd = started.pop()!;
    await influxd.stop();
    const { access } = await import('node:fs/promises');
    await expect(access(influxd.dir)).rejects.toThrow();
  });
});

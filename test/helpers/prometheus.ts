/**
 * startPrometheus runs a throw-away Prometheus (Debian's `prometheus` package, /usr/bin/prometheus)
 * with the given scrape configuration, its own temp dir for the TSDB, and its web API on a
 * loopback port the kernel picks (the real port is read from `ss`, never guessed).
 *
 * Success: resolves once /-/ready answers 200. Failure: rejects with one line and the tail of
 * Prometheus' own log (missing binary, bad configuration).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './process.js';

export const PROMETHEUS_BINARY = process.env.ALGWATCH_PROMETHEUS ?? '/usr/bin/prometheus';

export interface RunningPrometheus {
  url: string;
  /** query runs an instant PromQL query and returns its vector: labels and value per series. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /** targets returns the scrape targets as Prometheus sees them (job, health, last error). */
  targets(): Promise<Array<{ job: string; health: string; lastError: string }>>;
  stop(): Promise<void>;
}

/** startPrometheus starts Prometheus with `config` (prometheus.yml text); always call stop(). */
export async function startPrometheus(config: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'algwatch-prometheus-'));
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    PROMETHEUS_BINARY,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const fail = async (why: string): Promise<never> => {
    await stop();
    throw new Error(`prometheus ${why}: ${log.trim().split('\n').slice(-5).join(' | ')}`);
  };
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (!url) {
    if (exited) return fail('exited at start');
    if (Date.now() > deadline) return fail('did not listen within 30 s');
    const listening = await runCommand('ss', ['-Hltnp']);
    const line = listening.stdout.split('\n').find((candidate) => candidate.includes(`pid=${child.pid},`));
    const port = line ? /127\.0\.0\.1:(\d+)/.exec(line)?.[1] : undefined;
    if (port) url = `http://127.0.0.1:${port}`;
    else await sleep(100);
  }
  while ((await fetch(`${url}/-/ready`).catch(() => undefined))?.status !== 200) {
    if (exited) return fail('exited at start');
    if (Date.now() > deadline) return fail('was not ready within 30 s');
    await sleep(100);
  }
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    url,
    query: async (promql) => {
      const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
      return data.result.map((series) => ({ metric: series.metric, value: Number(series.value[1]) }));
    },
    targets: async () => {
      const data = await api<{ activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> }>('/api/v1/targets');
      return data.activeTargets.map((target) => ({ job: target.labels.job, health: target.health, lastError: target.lastError }));
    },
    stop,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

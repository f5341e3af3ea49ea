/**
 * startInfluxd runs a throw-away InfluxDB 1.x (`/usr/bin/influxd`, Debian's influxdb 1.6.7) for one
 * test file: its own temp dir for meta/data/wal, loopback ports picked free for both the HTTP API
 * and the RPC (backup) listener — the default :8088 would collide between test files running in
 * parallel — reporting, monitoring and logging off.
 *
 * Success: the promise resolves once `GET /ping` answers 204. Failure: it rejects with one line
 * and the tail of influxd's own log (missing binary, port taken, bad config).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSync, closeSync } from 'node:fs';

export const INFLUXD_BINARY = process.env.ALGWATCH_INFLUXD ?? '/usr/bin/influxd';

export interface RunningInfluxd {
  /** Base URL without a database, e.g. `http://127.0.0.1:40123`. */
  url: string;
  port: number;
  /** The temp dir holding config, data and influxd.log. */
  dir: string;
  /** The HTTP API on a unix socket too (for processes in other network namespaces). */
  socketPath: string;
  /** Kills influxd (SIGKILL: a crash, not a clean shutdown) and keeps its data dir and ports. */
  kill(): Promise<void>;
  /** Starts influxd again on the same ports and data dir (after kill()). */
  start(): Promise<void>;
  /** kill() then start(). */
  restart(): Promise<void>;
  /** Kills influxd and removes its temp dir. */
  stop(): Promise<void>;
}

/** startInfluxd starts a fresh InfluxDB; always call stop() (e.g. in afterAll). */
export async function startInfluxd(): Promise<RunningInfluxd> {
  const dir = await mkdtemp(join(tmpdir(), 'algwatch-influxd-'));
  const port = await freeLoopbackPort();
  const rpcPort = await freeLoopbackPort(port);
  const configPath = join(dir, 'influxdb.conf');
  await writeFile(configPath, influxdConfig(dir, port, rpcPort));
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(dir, 'influxd.log');
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) throw new Error('influxd is already running');
    const logFd = openSync(logPath, 'a');
    try {
      // Our own config file only: influxd would otherwise also read INFLUXDB_* variables and
      // /etc/influxdb/influxdb.conf.
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('INFLUXDB_')));
      child = spawn(INFLUXD_BINARY, ['run', '-config', configPath], { stdio: ['ignore', logFd, logFd], env });
    } finally {
      closeSync(logFd);
    }
    const running = child;
    let exitReason: string | undefined;
    running.once('error', (err) => (exitReason = err.message));
    running.once('exit', (code, signal) => (exitReason = `exited with ${signal ?? code}`));
    const deadline = Date.now() + 20_000;
    while (exitReason === undefined && Date.now() < deadline) {
      if (await ping(url)) return;
      await sleep(100);
    }
    child = undefined;
    running.kill('SIGKILL');
    const tail = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join(' | ');
    throw new Error(`influxd on 127.0.0.1:${port} did not start (${exitReason ?? 'no /ping answer in 20 s'}): ${tail}`);
  }

  async function kill(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await gone;
  }

  await start().catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });

  return {
    url,
    port,
    dir,
    socketPath: join(dir, 'influxd.sock'),
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** influxdConfig is a minimal 1.6 config: everything under dir, loopback only, quiet. */
function influxdConfig(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  bind-address = "127.0.0.1:${httpPort}"
  # Also on a unix socket: a socket file is reachable from inside test network namespaces.
  unix-socket-enabled = true
  bind-socket = "${join(dir, 'influxd.sock')}"
  log-enabled = false
  pprof-enabled = false

[continuous_queries]
  log-enabled = false

[logging]
  level = "error"
  suppress-logo = true
`;
}

async function ping(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.status === 204;
  } catch {
    return false;
  }
}

/** freeLoopbackPort asks the kernel for a free port (and avoids `not`, already handed out). */
async function freeLoopbackPort(not?: number): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
      });
    });
    if (port !== not) return port;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

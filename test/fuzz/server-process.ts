/**
 * startReflectorServer runs the real `algwatch-server` binary (server/bin, built by `npx tsc -b`)
 * on 127.0.0.1 with every port 0 (config.ts accepts 0 for each port flag) and reads the ports it
 * got from its "algwatch server listening" log line. Its stdout goes to a file, as in production,
 * so a test busy fuzzing never stalls the server's synchronous logging on a full pipe.
 *
 * Also here: what /proc says about that process and its sockets (RSS, open fds, UDP queues and
 * drops), which is how the fuzz test watches the server from outside.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_BIN = fileURLToPath(new URL('../../server/bin/algwatch-server.js', import.meta.url));
const SERVER_DIST = fileURLToPath(new URL('../../server/dist/cli.js', import.meta.url));

export interface ReflectorPorts {
  sipUdp: number;
  sipTcp: number;
  sipTls: number;
  stun: number;
  stunAlt: number;
  http: number;
}

export interface ReflectorServer {
  readonly pid: number;
  /** The server's --data-dir (SQLite store), for `algwatch-server site ...` against it. */
  readonly dataDir: string;
  readonly ports: ReflectorPorts;
  /** Set once the process has ended, with its exit code or signal. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** VmRSS of the process in KiB, from /proc/<pid>/status. */
  rssKiB(): number;
  /** CPU time the process has used, user + system, in seconds (/proc/<pid>/stat, 100 ticks/s). */
  cpuSeconds(): number;
  /** Open file descriptors of the process (sockets included). */
  fdCount(): number;
  /** stdout so far: one pino JSON line per event. */
  log(): Promise<string>;
  stderr(): string;
  /** SIGTERM, SIGKILL after 3 s; removes the data dir. */
  stop(): Promise<void>;
}

/** startReflectorServer resolves once the server logged that it listens; rejects with its stderr otherwise. */
export async function startReflectorServer(): Promise<ReflectorServer> {
  if (!existsSync(SERVER_DIST)) throw new Error('server/dist is missing: build first with `npx tsc -b` (npm test does)');
  const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-fuzz-server-'));
  const logPath = join(dataDir, 'server.log');
  const logFd = openSync(logPath, 'w');
  const child = spawn(
    process.execPath,
    [SERVER_BIN, '--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--stun-alt-port', '0', '--http-port', '0', '--metrics-port', '0', '--data-dir', dataDir],
    { stdio: ['ignore', logFd, 'pipe'] },
  );
  closeSync(logFd);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      stderr += err.message;
      ended = { code: null, signal: null };
      resolve();
    });
  });
  const stop = async () => {
    if (!ended) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const ports = await waitForListening(logPath, () => ended !== null, () => stderr);
    const pid = child.pid!;
    return {
      pid,
      dataDir,
      ports,
      exit: () => ended,
      rssKiB: () => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN),
      cpuSeconds: () => {
        // Fields after "(comm) ": state is [0], utime [11], stime [12] (proc(5)).
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100;
      },
      fdCount: () => readdirSync(`/proc/${pid}/fd`).length,
      log: () => readFile(logPath, 'utf8'),
      stderr: () => stderr,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForListening(logPath: string, hasExited: () => boolean, stderr: () => string): Promise<ReflectorPorts> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const line = readFileSync(logPath, 'utf8')
      .split('\n')
      .find((candidate) => candidate.includes('"msg":"algwatch server listening"'));
    if (line) {
      const event = JSON.parse(line) as { sip: { udp: number; tcp: number; tls: number }; stun: Array<{ port: number }>; httpPort: number };
      return { sipUdp: event.sip.udp, sipTcp: event.sip.tcp, sipTls: event.sip.tls, stun: event.stun[0]!.port, stunAlt: event.stun[1]!.port, http: event.httpPort };
    }
    if (hasExited()) throw new Error(`algwatch-server exited before listening: ${stderr().trim() || '(no stderr)'}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`algwatch-server did not log "algwatch server listening" within 30 s: ${stderr().trim() || '(no stderr)'}`);
}

/** UdpSocketCounters are the kernel's figures for one UDP socket (/proc/net/udp). */
export interface UdpSocketCounters {
  /** Bytes (skb truesize) waiting to be read by the owner. */
  rxQueue: number;
  /** Datagrams dropped because the receive buffer was full. */
  drops: number;
}

/**
 * udpSocketCounters reads /proc/net/udp for IPv4 sockets bound to the given addresses; the key is
 * `address:port`. Sockets not found are absent from the map.
 */
export function udpSocketCounters(bound: ReadonlyArray<{ address: string; port: number }>): Map<string, UdpSocketCounters> {
  const wanted = new Map(bound.map(({ address, port }) => [`${procHexAddress(address)}:${port.toString(16).toUpperCase().padStart(4, '0')}`, `${address}:${port}`]));
  const found = new Map<string, UdpSocketCounters>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const name = wanted.get(fields[1] ?? '');
    if (name === undefined) continue;
    const rxQueue = parseInt(fields[4]?.split(':')[1] ?? '0', 16);
    found.set(name, { rxQueue, drops: Number(fields[12] ?? 0) });
  }
  return found;
}

/** procHexAddress writes an IPv4 address the way /proc/net/* does (host byte order on little-endian). */
function procHexAddress(address: string): string {
  return address
    .split('.')
    .reverse()
    .map((octet) => Number(octet).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}

/**
 * The real `algwatch-server` CLI (server/bin/algwatch-server.js, compiled dist) on a loopback address
 * pair of its own (a random 127.77.x.y and the next one as --alt-address, which the RFC 5780
 * nat-behavior probe needs) and on free non-standard ports, for the agent-footprint benchmark. The
 * server tells its agents those ports (AgentConfig.reflectorPorts). The SIP port is chosen free for
 * UDP and TCP alike: with --sip-port 0 the two transports get different ports while the agent is
 * told one `sip` port for both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const SERVER_BIN = fileURLToPath(new URL('../server/bin/algwatch-server.js', import.meta.url));
export const AGENT_BIN = fileURLToPath(new URL('../agent/bin/algwatch-agent.js', import.meta.url));

export interface CliServer {
  bind: string;
  /** The reflector ports, as the report shows them. */
  ports: string;
  sipPort: number;
  tlsPort: number;
  httpUrl: string;
  process: ChildProcess;
  /** stdout + stderr lines so far (pino JSON lines and any one-line errors). */
  output: string[];
  stop(): Promise<void>;
}

/** siteCommand runs `algwatch-server site ARGS... --data-dir DIR` and returns its stdout; throws with its stderr if it fails. */
async function siteCommand(args: string[], dataDir: string): Promise<string> {
  const { code, stdout, stderr } = await run(process.execPath, [SERVER_BIN, 'site', ...args, '--data-dir', dataDir]);
  if (code !== 0) throw new Error(`site ${args.slice(0, 2).join(' ')} exited with ${code}: ${stderr.trim()}`);
  return stdout;
}

/** enrollSite runs `algwatch-server site add NAME` and returns the token (its last line). */
export async function enrollSite(name: string, dataDir: string): Promise<string> {
  const token = (await siteCommand(['add', name], dataDir)).trim().split('\n').at(-1);
  if (!token) throw new Error('site add printed no token');
  return token;
}

/** addSiteTarget runs `algwatch-server site target add SITE NAME HOST:PORT --transport T`. */
export async function addSiteTarget(site: string, name: string, hostPort: string, transport: 'udp' | 'tcp' | 'tls', dataDir: string): Promise<void> {
  await siteCommand(['target', 'add', site, name, hostPort, '--transport', transport], dataDir);
}

/** setSiteSchedule runs `algwatch-server site schedule SITE --<slot> EXPRESSION...`. */
export async function setSiteSchedule(site: string, schedule: Record<string, string>, dataDir: string): Promise<void> {
  await siteCommand(['schedule', site, ...Object.entries(schedule).flatMap(([flag, expression]) => [`--${flag}`, expression])], dataDir);
}

/** readTimeSeries opens a stopped-or-running server's embedded time-series file read-only for `read`. */
export function readTimeSeries<T>(serverDataDir: string, read: (db: Database.Database) => T): T {
  const db = new Database(join(serverDataDir, 'time-series.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** startCliServer runs `algwatch-server serve` with embedded storage; resolves once it logged its HTTP port. */
export async function startCliServer(dataDir: string): Promise<CliServer> {
  // 127.77.0.0/16 is loopback like 127.0.0.1; a random pair of its addresses avoids other benchmarks.
  const prefix = `127.77.${randomInt(0, 256)}`;
  const last = randomInt(2, 250);
  const bind = `${prefix}.${last}`;
  const alt = `${prefix}.${last + 1}`;
  const sipPort = await freePort(bind, { tcp: true, udp: true });
  const tlsPort = await freePort(bind, { tcp: true, udp: false });
  const stunPort = await freePort(bind, { tcp: false, udp: true }, alt);
  const stunAltPort = await freePort(bind, { tcp: false, udp: true }, alt);
  const args = [SERVER_BIN, 'serve', '--bind', bind, '--alt-address', alt, '--http-port', '0', '--metrics-port', '0', '--data-dir', dataDir];
  args.push('--sip-port', String(sipPort), '--tls-port', String(tlsPort), '--stun-port', String(stunPort), '--stun-alt-port', String(stunAltPort));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: withoutAlgwatchVariables() });
  const output: string[] = [];
  const httpPort = await new Promise<number>((resolve, reject) => {
    const onLine = (line: string) => {
      output.push(line);
      if (!line.includes('algwatch server listening')) return;
      const port = (JSON.parse(line) as { httpPort?: number }).httpPort;
      if (port) resolve(port);
    };
    readLines(child.stdout!, onLine);
    readLines(child.stderr!, onLine);
    child.once('exit', (code) => reject(new Error(`algwatch-server exited with ${code}: ${output.slice(-3).join(' | ')}`)));
  });
  return {
    bind,
    ports: `SIP ${sipPort} (UDP+TCP), TLS ${tlsPort}, STUN ${stunPort}/${stunAltPort} (alt address ${alt})`,
    sipPort,
    tlsPort,
    httpUrl: `http://${bind}:${httpPort}`,
    process: child,
    output,
    stop: () => stopProcess(child),
  };
}

/** freePort finds a port free on `host` (and `alsoHost`) for the transports asked, by binding it briefly. */
async function freePort(host: string, on: { tcp: boolean; udp: boolean }, alsoHost?: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(20_000, 60_000);
    const hosts = alsoHost ? [host, alsoHost] : [host];
    const checks = hosts.flatMap((h) => [...(on.tcp ? [tcpFree(h, port)] : []), ...(on.udp ? [udpFree(h, port)] : [])]);
    if ((await Promise.all(checks)).every(Boolean)) return port;
  }
  throw new Error(`no free port found on ${host}`);
}

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

/** stopProcess sends SIGTERM, then SIGKILL after 10 s, and resolves once the process is gone. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** withoutAlgwatchVariables keeps this shell's ALGWATCH_* settings away from the processes under test. */
export function withoutAlgwatchVariables(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ALGWATCH_'))), ...extra };
}

export function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line);
  });
}

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: withoutAlgwatchVariables() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

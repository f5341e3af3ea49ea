import { createServer, type Server as HttpServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AGENT_CONNECT_ERRORS,
  AGENT_NAMESPACE,
  resultsBatchSchema,
  type AgentConfig,
  type Heartbeat,
  type ProbeResultMessage,
} from '@algwatch/protocol/events';
import type { Probe } from '../probes/probe.js';
import { TOKEN_REFUSED_MESSAGE } from './connection.js';
import { Daemon, type DaemonOptions } from './daemon.js';
import { memoryLogger } from './log.js';
import type { ProbeRegistry } from './scheduler.js';

const TOKEN = 'test-token-0123456789abcdef';
const EVERY_SECOND: AgentConfig = {
  schedule: { sipAlg: '', stunMapping: '* * * * * *', natBehavior: '', bindingLifetime: '', keepalive: '', rtpPath: '' },
  targets: [],
  reflectorHost: '127.0.0.1',
};

/** TestServer is a minimal real `/agent` namespace: token check, hello ack, results stored once by id. */
class TestServer {
  readonly arrivals: ProbeResultMessage[] = [];
  readonly stored = new Map<string, ProbeResultMessage>();
  readonly heartbeats: Heartbeat[] = [];
  /** The size of every results batch received, in order. */
  readonly batchSizes: number[] = [];
  hellos = 0;
  /** How many connections the middleware still refuses with "server unavailable" before accepting. */
  unavailable = 0;
  /** Answers the next results batches get instead of storing them (e.g. storage down). */
  readonly failNext: string[] = [];
  /** Results with these probe names are refused for good, through `rejected`. */
  readonly refuseProbes = new Set<string>();
  private http: HttpServer | null = null;
  io: Server | null = null;

  constructor(readonly config: AgentConfig = EVERY_SECOND) {}

  async listen(port = 0): Promise<number> {
    this.http = createServer();
    this.io = new Server(this.http);
    const agents = this.io.of(AGENT_NAMESPACE);
    agents.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: string };
      if (this.unavailable > 0) {
        this.unavailable -= 1;
        return next(new Error(AGENT_CONNECT_ERRORS.serverUnavailable));
      }
      next(auth.token === TOKEN ? undefined : new Error(AGENT_CONNECT_ERRORS.tokenRefused));
    });
    agents.on('connection', (socket) => {
      socket.on('hello', (_hello: unknown, ack: (reply: unknown) => void) => {
        this.hellos += 1;
        ack({ ok: true, siteId: 'site-1', siteName: 'Test site', config: this.config });
      });
      socket.on('results', (batch: unknown, ack: (reply: unknown) => void) => {
        const parsed = resultsBatchSchema.parse(batch);
        this.batchSizes.push(parsed.results.length);
        const failure = this.failNext.shift();
        if (failure !== undefined) return ack({ ok: false, error: failure });
        const refused = parsed.results.filter((result) => this.refuseProbes.has(result.probe));
        const accepted = parsed.results.filter((result) => !this.refuseProbes.has(result.probe));
        for (const result of accepted) {
          this.arrivals.push(result);
          if (!this.stored.has(result.id)) this.stored.set(result.id, result);
        }
        ack({
          ok: true,
          accepted: accepted.map((result) => result.id),
          rejected: refused.map((result) => ({ id: result.id, error: 'unknown measurement' })),
        });
      });
      socket.on('heartbeat', (beat: Heartbeat) => void this.heartbeats.push(beat));
    });
    await new Promise<void>((resolve) => this.http!.listen(port, '127.0.0.1', resolve));
    return (this.http.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await this.io?.close();
    this.io = null;
    this.http = null;
  }
}

/** freePort finds a loopback port nobody listens on, for a server that comes up later. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** countingProbe is a real probe answering at once with a valid stun_mapping point; `count` says how many runs it made. */
function countingProbe(name: 'stun-mapping' | 'nat-behavior', counter: { count: number }, workMs = 0): Probe<Record<string, never>, { n: number }> {
  return {
    name,
    optionsSchema: z.object({}) as unknown as z.ZodType<Record<string, never>>,
    defaults: {},
    timeoutMs: 5_000,
    async run() {
      if (workMs > 0) await sleep(workMs);
      counter.count += 1;
      return {
        success: true,
        detail: { n: counter.count },
        points: [{ measurement: 'stun_mapping', tags: { target: 'reflector', result: 'success' }, fields: { rtt_ms: 1.5 } }],
      };
    },
  };
}

let dataDir: string;
const daemons: Daemon[] = [];
const servers: TestServer[] = [];
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'algwatch-daemon-'));
});
afterEach(async () => {
  for (const daemon of daemons.splice(0)) await daemon.stop();
  for (const server of servers.splice(0)) await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

function startDaemon(port: number, probes: ProbeRegistry, extra: Partial<DaemonOptions> = {}): Promise<Daemon> {
  return Daemon.start({
    server: `http://127.0.0.1:${port}`,
    token: TOKEN,
    agentId: 'agent-under-test',
    dataDir,
    log: memoryLogger(),
    probes,
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 400,
    maxRandomDelayMs: 0,
    ...extra,
  }).then((daemon) => {
    daemons.push(daemon);
    return daemon;
  });
}

describe('Daemon', () => {
  it('delivers results made while the server was down once it is up, in order, each once, across agent restarts', async () => {
    const runs = { count: 0 };
    const probes: ProbeRegistry = { 'stun-mapping': countingProbe('stun-mapping', runs) };
    const port = await freePort();
    // The config the server sent last time: with it the agent probes even before reaching the server.
    await writeFile(join(dataDir, 'server-config.json'), JSON.stringify(EVERY_SECOND));

    const first = await startDaemon(port, probes);
    await until(() => first.outboxDepth >= 2, 'the first agent has 2 results waiting');
    await first.stop();
    daemons.splice(daemons.indexOf(first), 1);

    const second = await startDaemon(port, probes);
    await until(() => second.outboxDepth >= 4, 'the restarted agent has 4 results waiting');
    const server = new TestServer();
    servers.push(server);
    await server.listen(port);
    await until(() => server.stored.size >= 5, 'the server stored 5 results');

    // A restart while connected: results acknowledged before it must not come back.
    await second.stop();
    daemons.splice(daemons.indexOf(second), 1);
    const third = await startDaemon(port, probes);
    await until(() => server.stored.size >= 7, 'the server stored 7 results');
    await third.stop();
    daemons.splice(daemons.indexOf(third), 1);

    const last = await startDaemon(port, {}, { outboxMaxResults: 1000 });
    await until(() => last.outboxDepth === 0 && server.stored.size === runs.count, 'every run is stored');
    expect([...server.stored.values()].map((result) => (result.detail as { n: number }).n)).toEqual(
      Array.from({ length: runs.count }, (_, index) => index + 1),
    );
    const ids = server.arrivals.map((result) => result.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sends the results of one tick together, as one batch, not one batch each', async () => {
    const stun = { count: 0 };
    const nat = { count: 0 };
    // The second run finishes 60 ms after the first, as the runs of one tick do.
    const probes: ProbeRegistry = { 'stun-mapping': countingProbe('stun-mapping', stun), 'nat-behavior': countingProbe('nat-behavior', nat, 60) };
    const server = new TestServer({ ...EVERY_SECOND, schedule: { ...EVERY_SECOND.schedule, stunMapping: '', natBehavior: '' } });
    servers.push(server);
    const port = await server.listen();
    await startDaemon(port, probes);
    await until(() => server.hellos === 1, 'the agent said hello');
    server.io!.of(AGENT_NAMESPACE).emit('runNow', { probes: ['stun-mapping', 'nat-behavior'] });
    await until(() => server.stored.size === 2, 'the runNow results are stored');
    expect(server.batchSizes).toEqual([2]);
  });

  it('resends a batch the server could not store, and drops for good a result the server rejects', async () => {
    const stun = { count: 0 };
    const nat = { count: 0 };
    const probes: ProbeRegistry = { 'stun-mapping': countingProbe('stun-mapping', stun), 'nat-behavior': countingProbe('nat-behavior', nat) };
    const server = new TestServer({ ...EVERY_SECOND, schedule: { ...EVERY_SECOND.schedule, stunMapping: '' } });
    server.failNext.push('storage unavailable: results not stored, send them again later');
    server.refuseProbes.add('nat-behavior');
    servers.push(server);
    const port = await server.listen();
    const log = memoryLogger();
    const daemon = await startDaemon(port, probes, { log });
    await until(() => server.hellos === 1, 'the agent said hello');
    server.io!.of(AGENT_NAMESPACE).emit('runNow', { probes: ['stun-mapping', 'nat-behavior'] });
    await until(() => server.stored.size === 1 && daemon.outboxDepth === 0, 'the stun result is stored and the outbox empty');
    expect([...server.stored.values()].map((result) => result.probe)).toEqual(['stun-mapping']);
    const warnings = log.lines.filter((line) => line.level === 'warn').map((line) => line.message);
    expect(warnings).toContain('the server did not store results: storage unavailable: results not stored, send them again later; resending in 1 s (results stay in the outbox; further resends are logged at debug level)');
    expect(warnings.some((line) => /^server refused result [0-9a-f-]{36} for good: unknown measurement$/.test(line))).toBe(true);
  });

  it('keeps retrying while the server cannot check tokens, and connects once it can', async () => {
    const server = new TestServer();
    server.unavailable = 2;
    servers.push(server);
    const port = await server.listen();
    const log = memoryLogger();
    await startDaemon(port, {}, { log });
    await until(() => server.hellos === 1, 'the agent said hello');
    expect(server.unavailable).toBe(0);
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toContain(
      `cannot reach http://127.0.0.1:${port}: server unavailable, retry later; retrying with backoff`,
    );
  });

  it('stops with exit code 2 and one clear line when the server refuses the token', async () => {
    const server = new TestServer();
    servers.push(server);
    const port = await server.listen();
    const daemon = await startDaemon(port, {}, { token: 'revoked-token-0123456789' });
    await expect(daemon.done).resolves.toEqual({ code: 2, message: TOKEN_REFUSED_MESSAGE });
    expect(TOKEN_REFUSED_MESSAGE).toBe('server refused the token: revoked or wrong — enroll again with `algwatch-server site add`');
  });

  it('applies a config the server pushes, runs probes on runNow and sends heartbeats', async () => {
    const stun = { count: 0 };
    const nat = { count: 0 };
    const probes: ProbeRegistry = { 'stun-mapping': countingProbe('stun-mapping', stun), 'nat-behavior': countingProbe('nat-behavior', nat) };
    const quiet: AgentConfig = { ...EVERY_SECOND, schedule: { ...EVERY_SECOND.schedule, stunMapping: '' } };
    const server = new TestServer(quiet);
    servers.push(server);
    const port = await server.listen();
    const daemon = await startDaemon(port, probes, { heartbeatMs: 200 });
    await until(() => server.heartbeats.length >= 1, 'a heartbeat arrived');
    expect(server.heartbeats[0]).toMatchObject({ outboxDepth: 0 });
    expect(server.heartbeats[0]!.rssBytes).toBeGreaterThan(0);

    server.io!.of(AGENT_NAMESPACE).emit('runNow', { probes: ['nat-behavior'] });
    await until(() => [...server.stored.values()].some((result) => result.probe === 'nat-behavior'), 'the nat-behavior result arrived');
    expect(stun.count).toBe(0);

    server.io!.of(AGENT_NAMESPACE).emit('config', EVERY_SECOND);
    await until(() => [...server.stored.values()].some((result) => result.probe === 'stun-mapping'), 'a scheduled stun-mapping result arrived');
    expect(daemon.outboxDepth).toBeGreaterThanOrEqual(0);
  });
});

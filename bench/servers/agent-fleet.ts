/**
 * A process of simulated agents for the ingest benchmark: many socket.io-client connections to one
 * server's `/agent` namespace (websocket transport only), each authenticated with a site token and
 * saying hello like the real agent. Driven by its parent over the fork() IPC channel:
 *
 * - `flood`: every agent sends batches of results back to back, each as soon as the previous ack is
 *   back and no sooner than the server's per-connection batch rate allows;
 * - `schedule`: every agent heartbeats every 30 s and sends results at the default schedule's rate
 *   (each slot at a random phase), and a sample of stun_mapping results is polled in InfluxDB until
 *   visible.
 *
 * Answers `stop` with what was acked and how long acks took; `close` disconnects and exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { io as connect, type Socket } from 'socket.io-client';
import {
  AGENT_NAMESPACE,
  PROTOCOL_VERSION,
  type AgentToServerEvents,
  type ProbeResultMessage,
  type ResultsAck,
  type ServerToAgentEvents,
} from '@algwatch/protocol/events';
import { defaultScheduleRates, floodResult, slotResults } from '../fleet-results.js';
import type { FleetReply, FleetRequest, FleetReport } from '../fleet-process.js';

type AgentSocket = Socket<ServerToAgentEvents, AgentToServerEvents>;

interface SimulatedAgent {
  agentId: string;
  socket: AgentSocket;
  /** flood: results [0, sent) were acked. */
  acked: number;
}

const ACK_TIMEOUT_MS = 30_000; // the real agent's default
const HEARTBEAT_MS = 30_000; // the real agent's default

const agents: SimulatedAgent[] = [];
const timers: NodeJS.Timeout[] = [];
const loops: Array<Promise<void>> = [];
const cpuStart = process.cpuUsage();
let stopping = false;
let report: FleetReport = emptyReport();

function emptyReport(): FleetReport {
  return { acked: 0, batches: 0, notOk: 0, notOkSample: [], ackTimeouts: 0, heartbeats: 0, ackLatenciesMs: [], visibleLatenciesMs: [], notVisible: 0, disconnects: 0, ackedByAgent: {} };
}

function send(reply: FleetReply): void {
  process.send?.(reply);
}

process.on('message', (request: FleetRequest) => {
  void handle(request).catch((err: unknown) => send({ type: 'error', message: (err as Error).message }));
});

async function handle(request: FleetRequest): Promise<void> {
  switch (request.type) {
    case 'connect':
      return send(await connectAll(request.url, request.agents, request.concurrency));
    case 'flood':
      stopping = false;
      report = emptyReport();
      for (const agent of agents) loops.push(floodLoop(agent, request.batchSize, request.minIntervalMs, request.baseMs));
      return send({ type: 'started' });
    case 'schedule':
      stopping = false;
      report = emptyReport();
      startSchedule(request.influxUrl, request.database, request.visibilitySampleRate);
      return send({ type: 'started' });
    case 'count':
      return send({ type: 'count', acked: report.acked });
    case 'usage': {
      const used = process.cpuUsage(cpuStart);
      return send({ type: 'usage', rssBytes: process.memoryUsage().rss, cpuSeconds: (used.user + used.system) / 1e6 });
    }
    case 'stop':
      stopping = true;
      for (const timer of timers.splice(0)) clearTimeout(timer);
      await Promise.race([Promise.all(loops.splice(0)), sleep(ACK_TIMEOUT_MS + 5_000)]);
      report.ackedByAgent = Object.fromEntries(agents.map((agent) => [agent.agentId, agent.acked]));
      return send({ type: 'report', report });
    case 'close':
      for (const agent of agents) agent.socket.disconnect();
      send({ type: 'closed' });
      setTimeout(() => process.exit(0), 100);
      return;
  }
}

/** connectAll opens the connections `concurrency` at a time; each counts once its hello is acked. */
async function connectAll(url: string, logins: Array<{ token: string; agentId: string }>, concurrency: number): Promise<FleetReply> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < logins.length) {
      const login = logins[next++]!;
      try {
        agents.push(await connectAgent(url, login));
      } catch (err) {
        failed += 1;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { type: 'connected', connected: agents.length, failed, seconds: (performance.now() - started) / 1000, ...(firstError ? { firstError } : {}) };
}

async function connectAgent(url: string, login: { token: string; agentId: string }): Promise<SimulatedAgent> {
  const socket: AgentSocket = connect(`${url}${AGENT_NAMESPACE}`, {
    auth: login,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 60_000,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
  const hello = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0-bench', hostname: login.agentId });
  if (!hello.ok) {
    socket.disconnect();
    throw new Error(`hello refused: ${hello.error}`);
  }
  socket.on('disconnect', (reason) => {
    if (reason !== 'io client disconnect') report.disconnects += 1;
  });
  return { agentId: login.agentId, socket, acked: 0 };
}

/** sendBatch sends one batch and records the ack; resolves to whether it was stored. */
async function sendBatch(agent: SimulatedAgent, results: ProbeResultMessage[]): Promise<{ ok: boolean; sentAt: number; ackedAt: number }> {
  const sentAt = performance.now();
  let ack: ResultsAck;
  try {
    ack = (await agent.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('results', { results })) as ResultsAck;
  } catch {
    report.ackTimeouts += 1;
    return { ok: false, sentAt, ackedAt: performance.now() };
  }
  const ackedAt = performance.now();
  report.batches += 1;
  report.ackLatenciesMs.push(ackedAt - sentAt);
  if (ack.ok && ack.accepted.length === results.length) {
    report.acked += results.length;
    return { ok: true, sentAt, ackedAt };
  }
  report.notOk += 1;
  if (report.notOkSample.length < 3) report.notOkSample.push(ack.ok ? `accepted ${ack.accepted.length} of ${results.length}` : ack.error);
  return { ok: false, sentAt, ackedAt };
}

async function floodLoop(agent: SimulatedAgent, batchSize: number, minIntervalMs: number, baseMs: number): Promise<void> {
  while (!stopping && agent.socket.connected) {
    const results = Array.from({ length: batchSize }, (_, i) => floodResult(baseMs, agent.acked + i));
    const sent = await sendBatch(agent, results);
    // Like the real outbox: a batch not acked is sent again (same ids, same points), so [0, acked) stays contiguous.
    if (sent.ok) agent.acked += batchSize;
    const wait = sent.sentAt + (sent.ok ? minIntervalMs : 1_000) - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

function startSchedule(influxUrl: string, database: string, visibilitySampleRate: number): void {
  const rates = defaultScheduleRates();
  for (const agent of agents) {
    // The real agent heartbeats every 30 s from its start; the fleet started at random moments.
    every(HEARTBEAT_MS, () => {
      report.heartbeats += 1;
      agent.socket.emit('heartbeat', { at: Date.now(), outboxDepth: 0, rssBytes: 45_000_000, uptimeS: process.uptime() });
    });
    for (const rate of rates) {
      every(rate.periodMs, () => {
        const results = slotResults(rate.slot, Date.now());
        void sendBatch(agent, results).then((sent) => {
          const first = results[0];
          if (sent.ok && rate.slot === 'stunMapping' && first && Math.random() < visibilitySampleRate) {
            void pollVisible(influxUrl, database, agent.agentId, first.startedAt, sent.sentAt);
          }
        });
      });
    }
  }
}

/** every runs `tick` every periodMs from a random phase, until stop. */
function every(periodMs: number, tick: () => void): void {
  const first = setTimeout(() => {
    if (stopping) return;
    tick();
    timers.push(setInterval(() => !stopping && tick(), periodMs));
  }, Math.random() * periodMs);
  timers.push(first);
}

/** pollVisible queries InfluxDB until the agent's stun_mapping point at `timeMs` is there. */
async function pollVisible(influxUrl: string, database: string, agentId: string, timeMs: number, sentAt: number): Promise<void> {
  const query = `SELECT count(rtt_ms) FROM "raw"."stun_mapping" WHERE agent = '${agentId}' AND time = ${timeMs}ms`;
  const url = `${influxUrl}/query?db=${encodeURIComponent(database)}&q=${encodeURIComponent(query)}`;
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const body = (await fetch(url).then((res) => res.json())) as { results?: Array<{ series?: unknown[] }> };
    if ((body.results?.[0]?.series?.length ?? 0) > 0) {
      report.visibleLatenciesMs.push(performance.now() - sentAt);
      return;
    }
    await sleep(10);
  }
  report.notVisible += 1;
}

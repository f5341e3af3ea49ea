/**
 * FleetProcess drives one child process of simulated agents (bench/servers/agent-fleet.ts) over the
 * fork() IPC channel: connect, flood or schedule, stop (with a report), close.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface AgentLogin {
  token: string;
  agentId: string;
}

export type FleetRequest =
  | { type: 'connect'; url: string; agents: AgentLogin[]; concurrency: number }
  | { type: 'flood'; batchSize: number; minIntervalMs: number; baseMs: number }
  | { type: 'schedule'; influxUrl: string; database: string; visibilitySampleRate: number }
  | { type: 'count' }
  | { type: 'usage' }
  | { type: 'stop' }
  | { type: 'close' };

/** FleetReport is what a fleet process saw between its start and `stop`. */
export interface FleetReport {
  /** Results the server acked as stored. */
  acked: number;
  batches: number;
  /** Batches answered ok:false (rate limited, storage unavailable) or with results missing. */
  notOk: number;
  notOkSample: string[];
  ackTimeouts: number;
  heartbeats: number;
  /** emit → ack of every acked batch. */
  ackLatenciesMs: number[];
  /** emit → first query that found the point in InfluxDB, for the sampled results. */
  visibleLatenciesMs: number[];
  notVisible: number;
  /** Connections the server or the network dropped. */
  disconnects: number;
  /** flood: per agent id, results [0, n) were acked. */
  ackedByAgent: Record<string, number>;
}

export type FleetReply =
  | { type: 'connected'; connected: number; failed: number; seconds: number; firstError?: string }
  | { type: 'started' }
  | { type: 'count'; acked: number }
  | { type: 'usage'; rssBytes: number; cpuSeconds: number }
  | { type: 'report'; report: FleetReport }
  | { type: 'closed' }
  | { type: 'error'; message: string };

type ReplyOf<T extends FleetReply['type']> = Extract<FleetReply, { type: T }>;

export class FleetProcess {
  private readonly child: ChildProcess;
  private exited = false;

  constructor() {
    this.child = fork(new URL('./servers/agent-fleet.ts', import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.once('exit', () => (this.exited = true));
  }

  /** ask sends a request and resolves with the reply of the expected type (rejects on `error` or exit). */
  ask<T extends FleetReply['type']>(request: FleetRequest, expect: T, timeoutMs = 120_000): Promise<ReplyOf<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`agent fleet: no ${expect} reply in ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (reply: FleetReply) => {
        if (reply.type === 'error') done(new Error(`agent fleet: ${reply.message}`));
        else if (reply.type === expect) done(undefined, reply as ReplyOf<T>);
      };
      const onExit = (code: number | null) => done(new Error(`agent fleet exited with ${code}`));
      const done = (err?: Error, reply?: ReplyOf<T>) => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        if (err) reject(err);
        else resolve(reply as ReplyOf<T>);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send(request);
    });
  }

  /** close disconnects the agents and waits for the process to end (killing it after 10 s). */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.ask({ type: 'close' }, 'closed', 10_000).catch(() => this.child.kill('SIGKILL'));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

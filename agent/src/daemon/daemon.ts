/**
 * The agent daemon: scheduler → outbox → connection. Every finished probe run is written to the
 * outbox before anything else; a sender drains the outbox in order while the server is connected
 * and removes results only when the server's ack lists them. The last config the server sent is
 * kept in the data dir, so a restart while the server is down keeps probing on the right schedule.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentConfigSchema, DEFAULT_SCHEDULE, type AgentConfig, type Heartbeat, type ProbeName } from '@algwatch/protocol/events';
import type { ProbeRun } from '../probes/runner.js';
import { Connection } from './connection.js';
import { replaceDurably } from './durable-files.js';
import type { Logger } from './log.js';
import { Outbox } from './outbox.js';
import { toResultMessage } from './result-message.js';
import { Scheduler, type ProbeRegistry } from './scheduler.js';

export interface DaemonOptions {
  server: string;
  token: string;
  agentId: string;
  dataDir: string;
  log: Logger;
  /** The probes to run; the real registry (agent/src/probes/index.ts) when omitted. */
  probes?: ProbeRegistry;
  agentVersion?: string;
  heartbeatMs?: number;
  ackTimeoutMs?: number;
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  maxRandomDelayMs?: number;
  /** Run the quick probes once on first connecting (default true). */
  firstRound?: boolean;
  outboxMaxBytes?: number;
  outboxMaxResults?: number;
}

/** DaemonExit is why the daemon ended: 0 when stopped, 2 with a one-line reason when it cannot go on. */
export interface DaemonExit {
  code: 0 | 2;
  message?: string;
}

const CONFIG_CACHE = 'server-config.json';

/**
 * How long a new result waits for the others of its tick before the outbox is sent: the runs of one
 * tick (three SIP ALG transports, two keep-alives per SIP target) finish within milliseconds of
 * each other and then go as one batch, not one each, which keeps a site with many targets well
 * inside the server's per-connection batch rate. The results are on disk meanwhile.
 */
export const SEND_LINGER_MS = 250;

/** Daemon runs until stop() or a fatal refusal by the server; `done` resolves with how it ended. */
export class Daemon {
  readonly done: Promise<DaemonExit>;
  private finish!: (exit: DaemonExit) => void;
  private pumping = false;
  private draining: Promise<void> = Promise.resolve();
  private stopRequested = false;
  private pumpAgain = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private sendFailures = 0;
  private readonly stopping = new AbortController();
  private readonly startedAt = Date.now();
  private appliedConfig: string | null = null;

  private constructor(
    private readonly options: DaemonOptions,
    private readonly outbox: Outbox,
    private readonly scheduler: Scheduler,
    private readonly connection: Connection,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Daemon.start replays the outbox, starts the schedule (cached or default config) and connects. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const { log } = options;
    const probes = options.probes ?? (await import('../probes/index.js')).PROBES;
    const outbox = await Outbox.open({
      dir: join(options.dataDir, 'outbox'),
      log,
      maxBytes: options.outboxMaxBytes,
      maxResults: options.outboxMaxResults,
    });
    let daemon: Daemon | null = null;
    const scheduler = new Scheduler({
      probes,
      log,
      maxRandomDelayMs: options.maxRandomDelayMs,
      onRun: (run) => daemon?.keep(run),
    });
    const connection = new Connection({
      server: options.server,
      token: options.token,
      agentId: options.agentId,
      agentVersion: options.agentVersion ?? '0.0.0',
      log,
      heartbeatMs: options.heartbeatMs,
      ackTimeoutMs: options.ackTimeoutMs,
      reconnectDelayMs: options.reconnectDelayMs,
      reconnectDelayMaxMs: options.reconnectDelayMaxMs,
      heartbeat: () => daemon!.heartbeat(),
      onReady: (_site, config) => {
        void daemon!.applyConfig(config).then(() => daemon!.firstRound(config));
        daemon!.pump();
      },
      onConfig: (config) => void daemon!.applyConfig(config),
      onRunNow: (request) => {
        log.info(`server asked to run now: ${request.probes.join(', ')}`);
        void scheduler.runNow(request.probes);
      },
      onFatal: (message) => void daemon!.stop(message),
    });
    daemon = new Daemon(options, outbox, scheduler, connection);
    const initial = (await daemon.cachedConfig()) ?? daemon.defaultConfig();
    daemon.appliedConfig = JSON.stringify(initial);
    await scheduler.apply(initial);
    await connection.start();
    return daemon;
  }

  private firstRoundStarted = false;

  /**
   * firstRound runs the quick probes once when the agent first reaches its server, so a new or
   * restarted site shows its state at once instead of at the next tick (up to an hour for NAT
   * behaviour). Binding lifetime takes minutes and waits for its schedule.
   */
  private firstRound(config: AgentConfig): void {
    if (this.firstRoundStarted || this.options.firstRound === false) return;
    this.firstRoundStarted = true;
    const wanted: ProbeName[] = [];
    if (config.schedule.sipAlg) wanted.push('sip-alg');
    if (config.schedule.stunMapping) wanted.push('stun-mapping');
    if (config.schedule.natBehavior) wanted.push('nat-behavior');
    if (wanted.length > 0) void this.scheduler.runNow(wanted);
  }

  /** outboxDepth is how many results wait for the server's ack. */
  get outboxDepth(): number {
    return this.outbox.depth;
  }

  /**
   * stop ends the schedule, waits for runs in progress to land in the outbox and (up to 2 s) for the
   * batch in flight to be acknowledged, then disconnects and closes the outbox. With `fatal`, `done`
   * resolves with exit code 2 and that line.
   */
  async stop(fatal?: string): Promise<void> {
    if (this.stopRequested) return;
    this.stopRequested = true;
    await this.scheduler.stop();
    if (this.lingerTimer) {
      // Results waiting to be batched go now, in the time stop() gives the batch in flight.
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      this.pump();
    }
    this.stopping.abort();
    // Not waiting would lose the ack of a batch the server is storing: it would come again next start.
    await Promise.race([this.draining, sleep(2_000, undefined, { ref: false })]);
    this.connection.close();
    await this.outbox.close();
    this.finish(fatal ? { code: 2, message: fatal } : { code: 0 });
  }

  private async keep(run: ProbeRun<unknown>): Promise<void> {
    const message = toResultMessage(run, this.options.log);
    if (!message) return;
    await this.outbox.append(message);
    this.options.log.debug(`${message.probe} ${message.target}: ${message.success ? 'ok' : `failed: ${message.error ?? ''}`}`, {
      id: message.id,
      startedAt: message.startedAt,
      measurements: message.points.map((point) => point.measurement),
    });
    this.pumpSoon();
  }

  /** pumpSoon sends the outbox after SEND_LINGER_MS, so results finishing together go together. */
  private pumpSoon(): void {
    if (this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.pump();
    }, SEND_LINGER_MS);
  }

  /** pump sends outbox batches while connected; a second call during a pump makes it go round again. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    this.draining = this.drain()
      .catch((err: unknown) => this.options.log.error(`sending results failed: ${(err as Error).message}`))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async drain(): Promise<void> {
    while (this.connection.ready && !this.stopping.signal.aborted) {
      const batch = await this.outbox.nextBatch();
      if (batch.length === 0) return;
      let problem: string | null = null;
      try {
        const ack = await this.connection.sendResults(batch);
        if (ack.ok) {
          for (const rejected of ack.rejected ?? []) this.options.log.warn(`server refused result ${rejected.id} for good: ${rejected.error}`);
          const done = [...ack.accepted, ...(ack.rejected ?? []).map((rejected) => rejected.id)];
          await this.outbox.ack(done);
          if (done.length === 0) problem = 'the server acknowledged none of the results sent';
        } else {
          problem = `the server did not store results: ${ack.error}`;
        }
      } catch (err) {
        // Lost the connection mid-send: the next hello pumps again, no need to back off.
        if (!this.connection.ready) return;
        problem = `results not acknowledged: ${(err as Error).message}`;
      }
      if (problem === null) {
        if (this.sendFailures > 0) this.options.log.info('the server is storing results again');
        this.sendFailures = 0;
        continue;
      }
      // Back off (1 s doubling to 60 s) so a struggling server is not hammered with resends.
      const delayMs = Math.min(60_000, 1_000 * 2 ** this.sendFailures);
      // One warning per streak of refusals (a quota, storage down), the resends at debug level: the
      // results stay in the outbox, and a log line a minute for hours says nothing new.
      const line = `${problem}; resending in ${Math.round(delayMs / 1000)} s`;
      if (this.sendFailures === 0) this.options.log.warn(`${line} (results stay in the outbox; further resends are logged at debug level)`);
      else this.options.log.debug(line);
      this.sendFailures = Math.min(this.sendFailures + 1, 10);
      await sleep(delayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  private heartbeat(): Heartbeat {
    return {
      at: Date.now(),
      outboxDepth: this.outbox.depth,
      rssBytes: process.memoryUsage.rss(),
      uptimeS: (Date.now() - this.startedAt) / 1000,
    };
  }

  private async applyConfig(config: AgentConfig): Promise<void> {
    const json = JSON.stringify(config);
    // Every reconnect's hello repeats the config: keep the running tasks when nothing changed.
    if (this.stopping.signal.aborted || json === this.appliedConfig) return;
    this.appliedConfig = json;
    await this.scheduler.apply(config);
    const path = join(this.options.dataDir, CONFIG_CACHE);
    try {
      await replaceDurably(path, json);
    } catch (err) {
      this.options.log.warn(`cannot keep the server's config in ${path} (${(err as NodeJS.ErrnoException).code ?? 'I/O error'}); a restart will use the default schedule until the server is reached`);
    }
  }

  private async cachedConfig(): Promise<AgentConfig | null> {
    const text = await readFile(join(this.options.dataDir, CONFIG_CACHE), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      const parsed = agentConfigSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through: a damaged cache is replaced on the next hello
    }
    this.options.log.warn(`ignored a damaged ${CONFIG_CACHE} in ${this.options.dataDir}; using the default schedule until the server is reached`);
    return null;
  }

  /** Before the server ever answered: the default schedule against the server's own reflector, no SIP targets. */
  private defaultConfig(): AgentConfig {
    return { schedule: DEFAULT_SCHEDULE, targets: [], reflectorHost: new URL(this.options.server).hostname };
  }
}

/**
 * The scheduler turns the server's Schedule into node-cron tasks, one per slot (sipAlg, stunMapping,
 * natBehavior, bindingLifetime, keepalive, rtpPath), and each tick into probe runs through `runProbe`. A slot
 * never overlaps itself (one guard for ticks and `runNow`), a small random delay spreads a fleet's
 * probes off the exact minute, and a new config replaces every task without a restart.
 *
 * node-cron is pinned to 3.0.3, not 4.x: 4.x reads the wall clock through Intl.DateTimeFormat on
 * every tick even without a time zone, which pages in about 5 MB of ICU data and costs the agent
 * 7 MB of RSS in all (bench/agent-footprint.ts; the agent's goal is < 60 MB). 3.x only does so when
 * given a time zone, and the agent schedules in the box's local time. What 4.x adds (no overlap,
 * random delay) is done here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ScheduledTask } from 'node-cron';
import type { AgentConfig, ProbeName, Schedule } from '@algwatch/protocol/events';
import type { Probe, ProbeTarget } from '../probes/probe.js';
import { runProbe, type ProbeRun } from '../probes/runner.js';
import type { ProbeKey } from '@algwatch/protocol/probe-signature';
import type { Logger } from './log.js';

/**
 * ProbeRegistry maps probe names to probes (agent/src/probes/index.ts `PROBES` in production).
 * `any`: the registry holds probes of different option types; runProbe parses each run's options
 * with the probe's own schema, which is the type boundary.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ProbeRegistry = Readonly<Partial<Record<ProbeName, Probe<any, any>>>>;

export type ScheduleSlot = keyof Schedule;
export const SCHEDULE_SLOTS: readonly ScheduleSlot[] = ['sipAlg', 'stunMapping', 'natBehavior', 'bindingLifetime', 'keepalive', 'rtpPath'];

/** SLOT_OF_PROBE says which slot's runs a `runNow` for a probe triggers. */
export const SLOT_OF_PROBE: Record<ProbeName, ScheduleSlot> = {
  'sip-alg': 'sipAlg',
  'stun-mapping': 'stunMapping',
  'nat-behavior': 'natBehavior',
  'binding-lifetime': 'bindingLifetime',
  'sip-options': 'keepalive',
  'crlf-keepalive': 'keepalive',
  'rtp-path': 'rtpPath',
};

/** probeKeyOfConfig turns the AgentConfig's probeKey into the key probes sign with. */
export function probeKeyOfConfig(key: NonNullable<AgentConfig['probeKey']>): ProbeKey {
  return { id: key.id, secret: Buffer.from(key.secret, 'base64url') };
}

/** PlannedRun is one probe run a slot's tick makes. */
export interface PlannedRun {
  probe: ProbeName;
  target: ProbeTarget;
  options: Record<string, unknown>;
}

/**
 * plannedRuns lists the runs of one tick of `slot`: the SIP ALG probe over UDP, TCP and TLS against
 * the reflector; the STUN probes against the reflector; OPTIONS and/or CRLF keep-alives to each of
 * the site's SIP targets.
 */
export function plannedRuns(slot: ScheduleSlot, config: AgentConfig): PlannedRun[] {
  const reflector: ProbeTarget = { host: config.reflectorHost, ...(config.probeKey ? { probeKey: probeKeyOfConfig(config.probeKey) } : {}) };
  const ports = config.reflectorPorts ?? {};
  // Only ports the server names are passed: otherwise each probe keeps its own standard default.
  const stun = ports.stun === undefined ? {} : { port: ports.stun };
  switch (slot) {
    case 'sipAlg':
      return (['udp', 'tcp', 'tls'] as const).map((transport) => {
        const port = transport === 'tls' ? ports.tls : ports.sip;
        return { probe: 'sip-alg', target: reflector, options: port === undefined ? { transport } : { transport, port } };
      });
    case 'stunMapping':
      return [{ probe: 'stun-mapping', target: reflector, options: stun }];
    case 'natBehavior':
      return [{ probe: 'nat-behavior', target: reflector, options: stun }];
    case 'bindingLifetime':
      return [{ probe: 'binding-lifetime', target: reflector, options: stun }];
    case 'rtpPath':
      // Media goes to the reflector's SIP UDP port for signalling, like a phone's INVITE.
      return [{ probe: 'rtp-path', target: reflector, options: ports.sip === undefined ? {} : { port: ports.sip } }];
    case 'keepalive':
      return config.targets.flatMap((peer) => {
        const target: ProbeTarget = { host: peer.host, port: peer.port, name: peer.name };
        const options = { transport: peer.transport, port: peer.port };
        const runs: PlannedRun[] = [];
        if (peer.keepalive !== 'crlf') runs.push({ probe: 'sip-options', target, options });
        if (peer.keepalive !== 'options') runs.push({ probe: 'crlf-keepalive', target, options });
        return runs;
      });
  }
}

export interface SchedulerOptions {
  probes: ProbeRegistry;
  /** Called with every finished run, in completion order; awaited before the slot counts as done. */
  onRun: (run: ProbeRun<unknown>) => Promise<void> | void;
  log: Logger;
  /** Upper bound of the random delay before a tick's runs; also capped at a tenth of the slot's period. */
  maxRandomDelayMs?: number;
}

/**
 * Scheduler runs the probes of an AgentConfig on its schedule. apply() swaps configs; runNow() runs
 * slots at once; stop() stops the tasks and aborts runs in progress (their results still arrive).
 */
export class Scheduler {
  private tasks: ScheduledTask[] = [];
  private config: AgentConfig | null = null;
  private readonly busy = new Map<ScheduleSlot, Promise<void>>();
  private readonly lastTickAt = new Map<ScheduleSlot, number>();
  /** Slots whose skipped tick was already warned about in the current streak of skips. */
  private readonly skipWarned = new Set<ScheduleSlot>();
  private readonly pendingTicks = new Map<ScheduleSlot, number>();
  private readonly missingWarned = new Set<string>();
  private readonly shutdown = new AbortController();

  constructor(private readonly options: SchedulerOptions) {}

  /** apply stops the tasks of the previous config and starts one task per enabled slot of `config`. */
  async apply(config: AgentConfig): Promise<void> {
    const cron = (await import('node-cron')).default;
    this.stopTasks();
    this.config = config;
    if (this.shutdown.signal.aborted) return;
    for (const slot of SCHEDULE_SLOTS) {
      const expression = config.schedule[slot].trim();
      if (expression === '') continue;
      if (!cron.validate(expression)) {
        this.options.log.warn(`schedule: ${slot} "${expression}" is not a valid cron expression; ${slot} probes are off until the server sends a valid one`);
        continue;
      }
      // node-cron 3 polls once a second and, without recoverMissedExecutions, drops a tick whenever
      // its timer drifts past a whole second; onCronFire folds what the catch-up adds. The name keys
      // node-cron's global task list, so a new config replaces the old entries there.
      const task = cron.schedule(expression, (firedAt) => this.onCronFire(slot, firedAt instanceof Date ? firedAt.getTime() : Date.now()), {
        scheduled: false,
        recoverMissedExecutions: true,
        name: `algwatch-${slot}`,
      });
      task.start();
      this.tasks.push(task);
    }
    this.options.log.debug('schedule applied', { schedule: config.schedule, targets: config.targets.length });
  }

  /**
   * runNow runs the slots of `probes` at once (only the named probes' runs) and resolves when they
   * finished. A slot already running is not started twice: the run in progress is awaited instead.
   */
  async runNow(probes: readonly ProbeName[]): Promise<void> {
    const slots = new Set(probes.map((probe) => SLOT_OF_PROBE[probe]));
    await Promise.all([...slots].map((slot) => this.runSlot(slot, new Set(probes))));
  }

  /** stop stops every task, aborts runs in progress and waits for them to hand in their results. */
  async stop(): Promise<void> {
    this.stopTasks();
    this.shutdown.abort();
    await Promise.all(this.busy.values());
  }

  private stopTasks(): void {
    for (const task of this.tasks) task.stop();
    this.tasks = [];
    this.lastTickAt.clear();
    this.pendingTicks.clear();
  }

  /**
   * onCronFire folds everything node-cron reports in one poll into one tick. With
   * recoverMissedExecutions its poll fires once for each matching second it missed: one for a
   * drifted timer, thousands after a suspended box or a blocked event loop. One run catches up.
   */
  private onCronFire(slot: ScheduleSlot, firedAt: number): void {
    const pending = this.pendingTicks.get(slot);
    this.pendingTicks.set(slot, Math.max(pending ?? 0, firedAt));
    if (pending !== undefined) return;
    setImmediate(() => {
      const tickAt = this.pendingTicks.get(slot);
      this.pendingTicks.delete(slot);
      if (tickAt !== undefined) this.onTick(slot, tickAt);
    });
  }

  /**
   * onTick starts a slot's runs after its random delay, unless the slot's previous runs still go on.
   * node-cron 3's next poll fires again for the second it just fired for: each second counts once.
   */
  private onTick(slot: ScheduleSlot, tickAt: number): void {
    const previousTickAt = this.lastTickAt.get(slot);
    if (previousTickAt !== undefined && Math.floor(previousTickAt / 1000) === Math.floor(tickAt / 1000)) return;
    this.lastTickAt.set(slot, tickAt);
    if (this.busy.has(slot)) {
      // Once per streak: probes that hang on an unreachable peer skip every tick, and a warning a
      // second says nothing new.
      if (this.skipWarned.has(slot)) {
        this.options.log.debug(`schedule: ${slot} probes still running at the next tick; skipped that tick`);
      } else {
        this.skipWarned.add(slot);
        this.options.log.warn(`schedule: ${slot} probes still running at the next tick; skipped that tick (until they finish, further skips are logged at debug level)`);
      }
      return;
    }
    this.skipWarned.delete(slot);
    void this.runSlot(slot, undefined, this.randomDelayMs(previousTickAt === undefined ? undefined : tickAt - previousTickAt));
  }

  private runSlot(slot: ScheduleSlot, only?: ReadonlySet<ProbeName>, delayMs = 0): Promise<void> {
    const running = this.busy.get(slot);
    if (running) {
      this.options.log.debug(`schedule: ${slot} already running; not starting it again`);
      return running;
    }
    const work = (async () => {
      // The delay counts as running: a tick or runNow meanwhile joins this run instead of adding one.
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: this.shutdown.signal }).catch(() => undefined);
      await this.runPlanned(slot, only);
    })().finally(() => this.busy.delete(slot));
    this.busy.set(slot, work);
    return work;
  }

  private async runPlanned(slot: ScheduleSlot, only?: ReadonlySet<ProbeName>): Promise<void> {
    if (!this.config || this.shutdown.signal.aborted) return;
    const runs = plannedRuns(slot, this.config).filter((planned) => !only || only.has(planned.probe));
    await Promise.all(
      runs.map(async (planned) => {
        const probe = this.options.probes[planned.probe];
        if (!probe) {
          if (!this.missingWarned.has(planned.probe)) {
            this.missingWarned.add(planned.probe);
            this.options.log.warn(`schedule: this agent has no ${planned.probe} probe; skipping its runs (update the agent)`);
          }
          return;
        }
        const run = await runProbe(probe, planned.target, planned.options, { signal: this.shutdown.signal });
        try {
          await this.options.onRun(run as ProbeRun<unknown>);
        } catch (err) {
          this.options.log.error(`schedule: could not keep the ${planned.probe} result: ${(err as Error).message}`);
        }
      }),
    );
  }

  /**
   * randomDelayMs spreads a fleet's runs off the exact tick: up to maxRandomDelayMs, and at most a
   * tenth of the slot's period (measured between its last two ticks) so a 30 s keep-alive stays near
   * 30 s. A slot's first tick has no period yet and waits at most a second.
   */
  private randomDelayMs(periodMs: number | undefined): number {
    const capMs = Math.min(this.options.maxRandomDelayMs ?? 5_000, periodMs === undefined ? 1_000 : Math.floor(periodMs / 10));
    return capMs > 0 ? Math.floor(Math.random() * capMs) : 0;
  }
}

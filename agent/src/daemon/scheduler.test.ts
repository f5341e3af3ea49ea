import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_SCHEDULE, scheduleSchema, type AgentConfig, type Schedule } from '@algwatch/protocol/events';
import type { Probe } from '../probes/probe.js';
import type { ProbeRun } from '../probes/runner.js';
import { memoryLogger } from './log.js';
import { plannedRuns, Scheduler, type ProbeRegistry } from './scheduler.js';
import { probeKeyOfToken } from '@algwatch/protocol/probe-signature';

const OFF: Schedule = { sipAlg: '', stunMapping: '', natBehavior: '', bindingLifetime: '', keepalive: '', rtpPath: '' };

function config(schedule: Partial<Schedule>, targets: AgentConfig['targets'] = []): AgentConfig {
  return { schedule: { ...OFF, ...schedule }, targets, reflectorHost: '127.0.0.1' };
}

interface Started {
  at: number;
  probe: string;
  host: string;
  options: Record<string, unknown>;
}

/** recordingProbe is a real probe that waits `workMs` (honouring the abort signal) and records each start. */
function recordingProbe(name: string, started: Started[], workMs = 0, active = { now: 0, max: 0 }): Probe<Record<string, unknown>, null> {
  return {
    name,
    optionsSchema: z.record(z.string(), z.unknown()),
    defaults: {},
    timeoutMs: 10_000,
    async run(ctx, target, options) {
      started.push({ at: Date.now(), probe: name, host: target.host, options });
      active.now += 1;
      active.max = Math.max(active.max, active.now);
      try {
        if (workMs > 0) await sleep(workMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      } finally {
        active.now -= 1;
      }
      return { success: true, detail: null, points: [] };
    },
  };
}

let scheduler: Scheduler | null = null;
afterEach(async () => {
  await scheduler?.stop();
  scheduler = null;
});

describe('plannedRuns', () => {
  it('runs the SIP ALG probe over UDP, TCP and TLS against the reflector', () => {
    expect(plannedRuns('sipAlg', config({})).map((run) => [run.probe, run.target.host, run.options.transport])).toEqual([
      ['sip-alg', '127.0.0.1', 'udp'],
      ['sip-alg', '127.0.0.1', 'tcp'],
      ['sip-alg', '127.0.0.1', 'tls'],
    ]);
  });

  it('points the reflector probes at the ports the server names', () => {
    const custom: AgentConfig = { ...config({}), reflectorPorts: { sip: 15060, tls: 15061, stun: 13478 } };
    expect(plannedRuns('sipAlg', custom).map((run) => run.options)).toEqual([
      { transport: 'udp', port: 15060 },
      { transport: 'tcp', port: 15060 },
      { transport: 'tls', port: 15061 },
    ]);
    expect(plannedRuns('natBehavior', custom)[0]!.options).toEqual({ port: 13478 });
    expect(plannedRuns('stunMapping', config({}))[0]!.options).toEqual({});
  });

  it('signs only the reflector probes, with the key the server sent, and never the site\'s own SIP peers', () => {
    const key = probeKeyOfToken('a-token-of-this-site');
    const signedConfig: AgentConfig = {
      ...config({}, [{ name: 'pbx', host: '127.0.0.2', port: 5060, transport: 'udp', keepalive: 'both' }]),
      probeKey: { id: key.id, secret: key.secret.toString('base64url') },
    };
    for (const slot of ['sipAlg', 'stunMapping', 'natBehavior', 'bindingLifetime'] as const) {
      for (const run of plannedRuns(slot, signedConfig)) expect(run.target.probeKey).toEqual(key);
    }
    expect(plannedRuns('keepalive', signedConfig).map((run) => run.target.probeKey)).toEqual([undefined, undefined]);
    // An older server sends no key: nothing is signed.
    expect(plannedRuns('sipAlg', config({}))[0]!.target.probeKey).toBeUndefined();
  });

  it('makes the rtp-path test call to the reflector\'s SIP port', () => {
    const custom: AgentConfig = { ...config({}), reflectorPorts: { sip: 15060 } };
    expect(plannedRuns('rtpPath', custom)).toEqual([{ probe: 'rtp-path', target: { host: '127.0.0.1' }, options: { port: 15060 } }]);
    expect(plannedRuns('rtpPath', config({}))[0]!.options).toEqual({});
  });

  it('reads a schedule stored before rtp-path existed, or sent by an older server, with rtp-path hourly', () => {
    const old = { sipAlg: '*/5 * * * *', stunMapping: '* * * * *', natBehavior: '0 * * * *', bindingLifetime: '0 */6 * * *', keepalive: '*/30 * * * * *' };
    expect(scheduleSchema.parse(old)).toEqual({ ...old, rtpPath: '30 * * * *' });
    expect(DEFAULT_SCHEDULE.rtpPath).toBe('30 * * * *');
  });

  it('sends OPTIONS, CRLF or both keep-alives to each SIP target as configured', () => {
    const targets: AgentConfig['targets'] = [
      { name: 'pbx', host: '127.0.0.2', port: 5060, transport: 'udp', keepalive: 'options' },
      { name: 'trunk', host: '127.0.0.3', port: 5061, transport: 'tls', keepalive: 'both' },
      { name: 'reg', host: '127.0.0.4', port: 5080, transport: 'tcp', keepalive: 'crlf' },
    ];
    expect(plannedRuns('keepalive', config({}, targets)).map((run) => [run.probe, run.target.name, run.options])).toEqual([
      ['sip-options', 'pbx', { transport: 'udp', port: 5060 }],
      ['sip-options', 'trunk', { transport: 'tls', port: 5061 }],
      ['crlf-keepalive', 'trunk', { transport: 'tls', port: 5061 }],
      ['crlf-keepalive', 'reg', { transport: 'tcp', port: 5080 }],
    ]);
  });
});

describe('Scheduler', () => {
  it('never runs a probe over itself: a tick that finds it still running is skipped with a warning', async () => {
    const started: Started[] = [];
    const active = { now: 0, max: 0 };
    const log = memoryLogger();
    const runs: ProbeRun<unknown>[] = [];
    scheduler = new Scheduler({
      probes: { 'stun-mapping': recordingProbe('stun-mapping', started, 2_500, active) },
      onRun: (run) => void runs.push(run),
      log,
      maxRandomDelayMs: 0,
    });
    await scheduler.apply(config({ stunMapping: '* * * * * *' }));
    await sleep(4_200);
    expect(started.length).toBeGreaterThanOrEqual(1);
    expect(active.max).toBe(1);
    // A 2.5 s run every second skips ticks in streaks; each streak (it follows a run) is warned
    // about once, the rest of it at debug level.
    const skips = log.lines.filter((line) => line.message.startsWith('schedule: stunMapping probes still running'));
    const warnings = skips.filter((line) => line.level === 'warn');
    expect(skips.length).toBeGreaterThan(warnings.length);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(started.length);
    expect(new Set(warnings.map((line) => line.message))).toEqual(
      new Set(['schedule: stunMapping probes still running at the next tick; skipped that tick (until they finish, further skips are logged at debug level)']),
    );
  });

  it('delays each tick by at most a tenth of the slot period, so a short period stays near its period', async () => {
    const started: Started[] = [];
    scheduler = new Scheduler({
      probes: { 'stun-mapping': recordingProbe('stun-mapping', started) },
      onRun: () => undefined,
      log: memoryLogger(),
      maxRandomDelayMs: 5_000,
    });
    await scheduler.apply(config({ stunMapping: '*/2 * * * * *' }));
    await sleep(9_000);
    // Once the 2 s period is known, each run waits < 200 ms after its tick, not up to 5 s, and every
    // tick runs exactly once: consecutive runs stay about 2 s apart.
    expect(started.length).toBeGreaterThanOrEqual(4);
    const gaps = started.slice(2).map((run, i) => run.at - started[i + 1]!.at);
    for (const gap of gaps) expect(Math.abs(gap - 2_000)).toBeLessThan(450);
  });

  it('after the event loop stalled, runs once at the next tick instead of once per missed tick', async () => {
    const started: Started[] = [];
    const log = memoryLogger();
    scheduler = new Scheduler({ probes: { 'stun-mapping': recordingProbe('stun-mapping', started) }, onRun: () => undefined, log, maxRandomDelayMs: 0 });
    await scheduler.apply(config({ stunMapping: '* * * * * *' }));
    await sleep(1_500);
    const stallEnds = Date.now() + 4_000;
    while (Date.now() < stallEnds) {
      // a synchronous stall: no timer of node-cron's runs meanwhile
    }
    const afterStall = started.length;
    await sleep(1_500);
    // Four ticks were missed; at most the two regular ticks after the stall run, not a burst of six.
    expect(started.length - afterStall).toBeGreaterThanOrEqual(1);
    expect(started.length - afterStall).toBeLessThanOrEqual(3);
    expect(log.lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('replaces every task when the server pushes a new config', async () => {
    const started: Started[] = [];
    const probes: ProbeRegistry = {
      'stun-mapping': recordingProbe('stun-mapping', started),
      'nat-behavior': recordingProbe('nat-behavior', started),
    };
    scheduler = new Scheduler({ probes, onRun: () => undefined, log: memoryLogger(), maxRandomDelayMs: 0 });
    await scheduler.apply(config({ stunMapping: '* * * * * *' }));
    await sleep(1_600);
    await scheduler.apply(config({ natBehavior: '* * * * * *' }));
    // A tick that fired just before the switch may still be starting its run: let it settle.
    await sleep(100);
    const stunRuns = () => started.filter((run) => run.probe === 'stun-mapping').length;
    const stunAtSwitch = stunRuns();
    expect(stunAtSwitch).toBeGreaterThanOrEqual(1);
    await sleep(2_200);
    expect(stunRuns()).toBe(stunAtSwitch);
    expect(started.filter((run) => run.probe === 'nat-behavior').length).toBeGreaterThanOrEqual(1);
  });

  it('runs only the requested probes on runNow and resolves once their results were handed over', async () => {
    const started: Started[] = [];
    const runs: ProbeRun<unknown>[] = [];
    const probes: ProbeRegistry = {
      'sip-alg': recordingProbe('sip-alg', started, 50),
      'sip-options': recordingProbe('sip-options', started),
      'crlf-keepalive': recordingProbe('crlf-keepalive', started),
    };
    scheduler = new Scheduler({ probes, onRun: (run) => void runs.push(run), log: memoryLogger(), maxRandomDelayMs: 0 });
    const targets: AgentConfig['targets'] = [{ name: 'pbx', host: '127.0.0.2', port: 5060, transport: 'udp', keepalive: 'both' }];
    await scheduler.apply(config({}, targets));
    await scheduler.runNow(['sip-alg', 'sip-options']);
    expect(runs.map((run) => run.probe).sort()).toEqual(['sip-alg', 'sip-alg', 'sip-alg', 'sip-options']);
    expect(started.filter((run) => run.probe === 'sip-alg').map((run) => run.options.transport).sort()).toEqual(['tcp', 'tls', 'udp']);
    expect(runs.every((run) => run.success)).toBe(true);
  });

  it('warns once about a probe this agent does not have and keeps running the others', async () => {
    const started: Started[] = [];
    const log = memoryLogger();
    scheduler = new Scheduler({
      probes: { 'stun-mapping': recordingProbe('stun-mapping', started) },
      onRun: () => undefined,
      log,
      maxRandomDelayMs: 0,
    });
    await scheduler.apply(config({}));
    await scheduler.runNow(['binding-lifetime', 'stun-mapping']);
    await scheduler.runNow(['binding-lifetime']);
    expect(started.map((run) => run.probe)).toEqual(['stun-mapping']);
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      'schedule: this agent has no binding-lifetime probe; skipping its runs (update the agent)',
    ]);
  });

  it('turns an invalid cron expression from the server into one warning and leaves that slot off', async () => {
    const log = memoryLogger();
    scheduler = new Scheduler({ probes: {}, onRun: () => undefined, log, maxRandomDelayMs: 0 });
    await scheduler.apply(config({ natBehavior: 'every hour' }));
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      'schedule: natBehavior "every hour" is not a valid cron expression; natBehavior probes are off until the server sends a valid one',
    ]);
  });
});

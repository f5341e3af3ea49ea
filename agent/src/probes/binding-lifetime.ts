/**
 * binding-lifetime: how long the site's NAT keeps an idle UDP binding, to ±1 step (default 1 s),
 * in about the lifetime itself rather than a serial search's many multiples of it.
 *
 * One socket per idle interval (1 s, 2 s, ... up to maxLifetimeSeconds) sends ONE Binding request
 * carrying ALGWATCH-RESPONSE-DELAY = its interval. algwatch's reflector acknowledges at once (the
 * flow then looks like a phone's REGISTER/200 OK, and retransmission covers a lost request), then
 * answers again, twice for loss, after exactly that idle time. The delayed answer arriving proves
 * the NAT still had the binding. Intervals finish in order, so the verdict is known as soon as the
 * first one goes unanswered: lowerSeconds = longest interval answered with every shorter one
 * answered, upperSeconds = the first one not answered, and udpSeconds = upperSeconds (the binding
 * is gone after that much idle; NAT timeouts are set in whole seconds, so this is the setting).
 * udpSeconds is null, with lower = upper = max, when bindings outlived maxLifetimeSeconds.
 *
 * Writes measurement `binding_lifetime` (tags target, result = ok|no_answer; fields udp_lifetime_s
 * (absent when it outlived the max), lower_s, upper_s, outlived_max, elapsed_ms).
 * Example: `binding_lifetime,target=reflector.example.net,result=ok udp_lifetime_s=30,lower_s=29,
 * upper_s=30,outlived_max=false,elapsed_ms=30412`
 */
import type { Socket } from 'node:dgram';
import { setMaxListeners } from 'node:events';
import * as z from '@algwatch/protocol/zod';
import type { BindingLifetimeReport } from '@algwatch/protocol/check-report';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import { PADDED_REQUEST_BYTES, StunClient } from '../stun-client.js';
import { targetLabel, type Probe, type ProbeTarget } from './probe.js';
import { DEFAULT_STUN_PORT, closeQuietly, openUdpSocket, resolveStunServer, type StunServer } from './stun-target.js';

/** Sockets open at once at most; past this the step is widened (and the detail says so). */
export const MAX_LIFETIME_SOCKETS = 500;
/** Requests are sent in batches so the reflector's per-source budget (200/s) is never exceeded. */
const BATCH_SIZE = 50;
const BATCH_GAP_MS = 250;
/** Slack after the expected arrival of the delayed answer (timer jitter, the 100 ms duplicate). */
const ANSWER_SLACK_MS = 400;
const PROGRESS_EVERY_MS = 5_000;

export const bindingLifetimeOptionsSchema = z.object({
  port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), DEFAULT_STUN_PORT),
  maxLifetimeSeconds: z._default(z.number().check(z.minimum(1), z.maximum(86_400)), 300),
  resolutionSeconds: z._default(z.number().check(z.minimum(0.5), z.maximum(3_600)), 1),
});
export type BindingLifetimeOptions = z.infer<typeof bindingLifetimeOptionsSchema>;

export interface BindingLifetimeDetail extends BindingLifetimeReport {
  /** Spacing of the tested intervals; larger than resolutionSeconds when widened. */
  stepSeconds: number;
  /** Intervals whose request was never acknowledged (lost or rate-limited); left out of the verdict. */
  unacknowledged: number;
  note?: string;
}

type IntervalState = 'pending' | 'alive' | 'expired' | 'unknown';

/**
 * bindingLifetimeProbe succeeds when the verdict is known (a lifetime, or "outlived the max").
 * No answer from the server is success=false; a server that does not honour the delay (not an
 * algwatch reflector) throws a one-line error, since no lifetime can be measured against it.
 */
export const bindingLifetimeProbe: Probe<BindingLifetimeOptions, BindingLifetimeDetail | null> = {
  name: 'binding-lifetime',
  optionsSchema: bindingLifetimeOptionsSchema,
  defaults: { port: DEFAULT_STUN_PORT, maxLifetimeSeconds: 300, resolutionSeconds: 1 },
  timeoutMs: 330_000,
  async run(ctx, target, options) {
    const started = performance.now();
    const server = await resolveStunServer(target.host, target.port ?? options.port);
    const { intervals, stepSeconds, note } = plan(options);
    const states = new Map<number, IntervalState>(intervals.map((seconds) => [seconds, 'pending']));
    const done = new AbortController();
    const signal = AbortSignal.any([ctx.signal, done.signal]);
    // Every interval's socket waits on this one signal: hundreds of listeners are expected here.
    setMaxListeners(2 * MAX_LIFETIME_SOCKETS + 10, signal);
    const open: Array<{ socket: Socket; client: StunClient }> = [];
    const finish = () => done.abort();
    let lower = 0;
    let sendError: string | null = null;
    const progress = setInterval(() => ctx.progress(`binding alive after ${lower} s idle (testing up to ${options.maxLifetimeSeconds} s)`), PROGRESS_EVERY_MS);
    progress.unref();
    try {
      const measure = async (seconds: number, onAck?: (supported: boolean | null) => void): Promise<void> => {
        let state: IntervalState = 'unknown';
        try {
          const socket = await openUdpSocket(server.family);
          const client = new StunClient(socket, target.probeKey);
          open.push({ socket, client });
          try {
            state = await measureInterval(client, server, seconds, signal, onAck);
          } finally {
            client.close();
            closeQuietly(socket);
          }
        } catch (err) {
          // A socket that cannot send (no route, no buffers) leaves its interval unknown; never reject:
          // the other intervals' promises are awaited later.
          sendError = err instanceof Error ? err.message : String(err);
        }
        states.set(seconds, state);
        const verdict = decide(intervals, states);
        lower = verdict.lower;
        if (verdict.final) finish();
      };
      // The first interval doubles as the check that the server honours the delay at all.
      let firstAck: (supported: boolean | null) => void = () => {};
      const acked = new Promise<boolean | null>((resolve) => (firstAck = resolve));
      const first = measure(intervals[0]!, firstAck);
      const supported = await Promise.race([acked, first.then(() => null)]);
      if (supported === false) {
        throw new Error(`the STUN server at ${server.address}:${server.port} ignores ALGWATCH-RESPONSE-DELAY: binding lifetime needs an algwatch reflector`);
      }
      const rest: Array<Promise<void>> = [];
      for (let i = 1; supported === true && i < intervals.length && !signal.aborted; i++) {
        rest.push(measure(intervals[i]!));
        if (i % BATCH_SIZE === 0) await sleep(BATCH_GAP_MS, signal);
      }
      await Promise.all([first, ...rest]);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const elapsedMs = Math.round(performance.now() - started);
      const verdict = decide(intervals, states);
      const unacknowledged = [...states.values()].filter((state) => state === 'unknown').length;
      if (supported !== true && sendError) throw new Error(`cannot send to the STUN server at ${server.address}:${server.port}: ${sendError}`);
      if (supported !== true || !verdict.final || unacknowledged === intervals.length) {
        return { success: false, detail: null, points: [lifetimePoint(target, 'no_answer', null, elapsedMs)] };
      }
      const outlived = verdict.upper === null;
      const detail: BindingLifetimeDetail = {
        udpSeconds: verdict.upper,
        lowerSeconds: outlived ? options.maxLifetimeSeconds : verdict.lower,
        upperSeconds: verdict.upper ?? options.maxLifetimeSeconds,
        elapsedMs,
        stepSeconds,
        unacknowledged,
        ...(note ? { note } : {}),
      };
      return { success: true, detail, points: [lifetimePoint(target, 'ok', detail, elapsedMs)] };
    } finally {
      clearInterval(progress);
      finish();
      for (const { client, socket } of open) {
        client.close();
        closeQuietly(socket);
      }
    }
  },
};

/** plan lists the idle intervals to test, widening the step when they would need too many sockets. */
export function plan(options: Pick<BindingLifetimeOptions, 'maxLifetimeSeconds' | 'resolutionSeconds'>): { intervals: number[]; stepSeconds: number; note?: string } {
  let step = options.resolutionSeconds;
  let note: string | undefined;
  if (options.maxLifetimeSeconds / step > MAX_LIFETIME_SOCKETS) {
    step = Math.ceil(options.maxLifetimeSeconds / MAX_LIFETIME_SOCKETS / options.resolutionSeconds) * options.resolutionSeconds;
    note = `step widened from ${options.resolutionSeconds} s to ${step} s to keep at most ${MAX_LIFETIME_SOCKETS} sockets open`;
  }
  const intervals: number[] = [];
  for (let k = 1; k * step <= options.maxLifetimeSeconds + 1e-9; k++) intervals.push(Math.round(k * step * 1000) / 1000);
  if (intervals.length === 0 || intervals[intervals.length - 1]! < options.maxLifetimeSeconds) intervals.push(options.maxLifetimeSeconds);
  return { intervals, stepSeconds: step, ...(note ? { note } : {}) };
}

/**
 * decide walks the intervals in order, skipping unacknowledged ones: the first expired one ends the
 * measurement; a pending one before it means not yet known.
 */
export function decide(intervals: number[], states: ReadonlyMap<number, IntervalState>): { final: boolean; lower: number; upper: number | null } {
  let lower = 0;
  for (const seconds of intervals) {
    const state = states.get(seconds);
    if (state === 'unknown') continue;
    if (state === 'pending') return { final: false, lower, upper: null };
    if (state === 'expired') return { final: true, lower, upper: seconds };
    lower = seconds;
  }
  return { final: true, lower, upper: null };
}

/**
 * measureInterval sends one delayed request and waits for the delayed answer. 'unknown' when the
 * request was never acknowledged (or the server capped the delay below the interval).
 */
async function measureInterval(
  client: StunClient,
  server: StunServer,
  seconds: number,
  signal: AbortSignal,
  onAck?: (supported: boolean | null) => void,
): Promise<IntervalState> {
  const delayMs = Math.round(seconds * 1000);
  const ack = await client.request({ address: server.address, port: server.port }, { responseDelayMs: delayMs }, { signal, timeoutMs: 3_000, padToBytes: PADDED_REQUEST_BYTES.delayed });
  if (!ack || ack.message.class !== 'success') {
    onAck?.(null);
    return 'unknown';
  }
  const echoed = ack.message.responseDelayMs;
  onAck?.(echoed !== undefined && echoed > 0);
  if (echoed === undefined || echoed < delayMs) return 'unknown';
  // The reflector's wait starts when our last transmission reached it; its answer then needs the
  // way back: expected at lastSentAt + delay + rtt.
  const remaining = ack.lastSentAt + delayMs + ack.rttMs * 2 + ANSWER_SLACK_MS - performance.now();
  const answer = await client.expect(ack.message.transactionId, { signal, timeoutMs: Math.max(0, remaining) });
  if (answer) return 'alive';
  return signal.aborted ? 'unknown' : 'expired';
}

function lifetimePoint(target: ProbeTarget, result: 'ok' | 'no_answer', detail: BindingLifetimeDetail | null, elapsedMs: number): MetricPoint {
  const fields: MetricPoint['fields'] = { elapsed_ms: elapsedMs };
  if (detail) {
    if (detail.udpSeconds !== null) fields.udp_lifetime_s = detail.udpSeconds;
    fields.lower_s = detail.lowerSeconds;
    fields.upper_s = detail.upperSeconds;
    fields.outlived_max = detail.udpSeconds === null;
  }
  return { measurement: 'binding_lifetime', tags: { target: targetLabel(target), result }, fields };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}


import { newResultId } from './result-id.js';
import { $ZodError } from 'zod/v4/core';
import { SIP_TRANSPORTS, type SipTransport } from '@algwatch/protocol/check-report';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import type { Probe, ProbeTarget } from './probe.js';

/** ProbeRun is one finished run of one probe: what the daemon ships and `check` reports. */
export interface ProbeRun<Detail> {
  id: string;
  probe: string;
  target: ProbeTarget;
  /** The SIP transport the run used, for probes that take one (from its options). */
  transport?: SipTransport;
  startedAt: number;
  durationMs: number;
  success: boolean;
  /** One line, set when the probe failed to run at all (timeout, bad options, a bug). */
  error?: string;
  detail: Detail | null;
  points: MetricPoint[];
}

export interface RunProbeOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  progress?: (message: string) => void;
}

/**
 * runProbe runs one probe under a timeout. It never throws: a probe that throws or overruns its
 * budget yields a run with success=false and a one-line error.
 */
export async function runProbe<Options, Detail>(
  probe: Probe<Options, Detail>,
  target: ProbeTarget,
  options: Partial<Options> = {},
  run: RunProbeOptions = {},
): Promise<ProbeRun<Detail>> {
  const startedAt = Date.now();
  const started = performance.now();
  const timeoutMs = run.timeoutMs ?? probe.timeoutMs;
  const budget = runSignal(timeoutMs, run.signal);
  const signal = budget.signal;
  const transport = (options as { transport?: unknown }).transport;
  const base = { id: newResultId(), probe: probe.name, target, startedAt, ...(isSipTransport(transport) ? { transport } : {}) };
  try {
    const parsed = probe.optionsSchema.parse({ ...probe.defaults, ...options });
    const outcome = await raceAbort(probe.run({ signal, progress: run.progress ?? (() => {}) }, target, parsed), signal);
    const reason = !outcome.success && outcome.reason !== undefined ? { error: outcome.reason } : {};
    return { ...base, durationMs: performance.now() - started, success: outcome.success, detail: outcome.detail, points: outcome.points, ...reason };
  } catch (err) {
    const error = budget.timedOut() ? `timed out after ${timeoutMs} ms` : oneLine(err);
    return { ...base, durationMs: performance.now() - started, success: false, error, detail: null, points: [] };
  } finally {
    budget.release();
  }
}

/**
 * runSignal is one run's abort signal: aborted when the run's time is up or when `outer` (the
 * daemon's shutdown) aborts. Not AbortSignal.any: on Node 20 a signal made by any() from a
 * long-lived one stays referenced by it, about 0.5 KB per run, which on the default schedule would
 * grow a months-running agent by several MB a day. release() unhooks it from `outer`.
 */
function runSignal(timeoutMs: number, outer: AbortSignal | undefined): { signal: AbortSignal; timedOut: () => boolean; release: () => void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const onOuterAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    release: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}

function isSipTransport(value: unknown): value is SipTransport {
  return (SIP_TRANSPORTS as readonly unknown[]).includes(value);
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (err) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
}

function oneLine(err: unknown): string {
  // zod/mini throws core's error; classic zod's ZodError class would not match it.
  if (err instanceof $ZodError) return `bad options: ${err.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`;
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? 'unknown error';
}

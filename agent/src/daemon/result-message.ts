/**
 * Turns a finished ProbeRun into the ProbeResultMessage the server stores. Done once, before the
 * outbox: a message that leaves here passes probeResultSchema, so one bad point never blocks the
 * queue behind it on the server.
 */
import { metricPointSchema, type MetricPoint } from '@algwatch/protocol/measurements';
import { PROBE_NAMES, probeResultSchema, type ProbeName, type ProbeResultMessage } from '@algwatch/protocol/events';
import { targetLabel } from '../probes/probe.js';
import type { ProbeRun } from '../probes/runner.js';
import type { Logger } from './log.js';

/** Probe details past this many bytes of JSON are replaced by a marker: results must stay small. */
export const MAX_DETAIL_BYTES = 8_192;

/**
 * toResultMessage keeps the run's id and start time, drops points that do not match the
 * measurement schema and oversized details (each with a warning), and returns null (with a warning)
 * for a run that cannot be sent at all.
 */
export function toResultMessage(run: ProbeRun<unknown>, log: Logger): ProbeResultMessage | null {
  if (!(PROBE_NAMES as readonly string[]).includes(run.probe)) {
    log.warn(`result of unknown probe ${run.probe} not sent (the server only knows ${PROBE_NAMES.join(', ')})`);
    return null;
  }
  const points: MetricPoint[] = [];
  for (const point of run.points) {
    const checked = metricPointSchema.safeParse(point);
    if (checked.success) points.push(checked.data);
    else log.warn(`${run.probe}: dropped a ${point.measurement} point that does not match the schema: ${checked.error.issues[0]?.message ?? 'invalid'}`);
  }
  const detailJson = JSON.stringify(run.detail ?? null) ?? 'null';
  let detail: unknown = run.detail ?? null;
  if (Buffer.byteLength(detailJson) > MAX_DETAIL_BYTES) {
    log.warn(`${run.probe}: detail of ${Buffer.byteLength(detailJson)} bytes replaced by a marker (limit ${MAX_DETAIL_BYTES})`);
    detail = { truncated: true, bytes: Buffer.byteLength(detailJson) };
  }
  const message: ProbeResultMessage = {
    id: run.id,
    probe: run.probe as ProbeName,
    target: targetLabel(run.target).slice(0, 300),
    ...(run.transport ? { transport: run.transport } : {}),
    startedAt: Math.round(run.startedAt),
    durationMs: Math.max(0, run.durationMs),
    success: run.success,
    points: points.slice(0, 16),
    detail,
  };
  if (run.error !== undefined) message.error = run.error.slice(0, 500);
  const checked = probeResultSchema.safeParse(message);
  if (!checked.success) {
    log.warn(`${run.probe}: result not sent, it does not match the wire schema: ${checked.error.issues[0]?.message ?? 'invalid'}`);
    return null;
  }
  return message;
}

/**
 * failureReason is the one line the agent logs for a failed run: the run's error, else the reason
 * the probe put in its detail (sip-options and crlf-keepalive report "no answer from …" there),
 * else the point's result tag; never empty.
 */
export function failureReason(message: Pick<ProbeResultMessage, 'error' | 'detail' | 'points'>): string {
  if (message.error) return message.error;
  const detail = message.detail as { reason?: unknown } | null;
  if (detail && typeof detail.reason === 'string' && detail.reason !== '') return detail.reason;
  const result = message.points[0]?.tags.result;
  return result ? `result ${result}` : 'no reason given';
}

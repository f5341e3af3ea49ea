/**
 * The keep-alive rules, per SIP peer and transport, from sip-options and crlf-keepalive results:
 * down (N runs in a row unanswered), answering with error codes (503 is maintenance, its own rule),
 * slow (median RTT over a threshold), lossy (loss averaged over a window of runs).
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { statusCodeMatches } from '../rule-settings.js';
import { countConsecutive, numberField, pointOf, type Observation, type RuleContext } from './observation.js';

export function observeKeepalive(result: ProbeResultMessage, context: RuleContext): Observation[] {
  if (result.probe !== 'sip-options' && result.probe !== 'crlf-keepalive') return [];
  const point = pointOf(result, result.probe === 'sip-options' ? 'sip_options' : 'crlf_keepalive');
  const outcome = point?.tags.result;
  const target = result.target;
  const transport = result.transport ?? point?.tags.transport;
  const key = { target, ...(transport ? { transport } : {}) };
  const status = numberField(point, 'status_code');
  const answered = outcome === 'ok' || outcome === 'error_response';
  const observations: Observation[] = [];

  // crlf and OPTIONS on the same peer count separately: the peer may do one and not the other.
  const downMemory = context.memory('target_down', target, `${transport ?? ''}/${result.probe}`);
  const unanswered = countConsecutive(downMemory, !answered);
  observations.push({
    rule: 'target_down',
    ...key,
    active: unanswered >= (context.settings('target_down').threshold ?? 1),
    summary: `${target}${transport ? ` over ${transport.toUpperCase()}` : ''} did not answer ${result.probe === 'sip-options' ? 'OPTIONS' : 'CRLF keep-alives'} ${unanswered} times in a row${result.error ? ` (${result.error})` : ''}`,
  });

  if (result.probe === 'sip-options' && answered && status !== undefined) {
    for (const rule of ['target_error', 'target_maintenance'] as const) {
      const matches = statusCodeMatches(context.settings(rule).codes, status);
      observations.push({ rule, ...key, active: matches, summary: `${target} answers OPTIONS with ${status}`, evidence: [`OPTIONS -> ${status}`] });
    }
  }

  const rtt = numberField(point, 'rtt_ms');
  if (answered && rtt !== undefined) {
    const slowMs = context.settings('target_slow').threshold ?? Number.POSITIVE_INFINITY;
    observations.push({ rule: 'target_slow', ...key, active: rtt > slowMs, summary: `${target} answers in ${Math.round(rtt)} ms (over ${slowMs} ms)` });
  }

  if (result.probe === 'sip-options') {
    const loss = answered ? (numberField(point, 'loss_pct') ?? 0) : 100;
    const settings = context.settings('target_lossy');
    const memory = context.memory('target_lossy', target, transport);
    const window = Array.isArray(memory.window) ? (memory.window as number[]) : [];
    window.push(loss);
    while (window.length > (settings.window ?? 10)) window.shift();
    memory.window = window;
    const average = window.reduce((sum, value) => sum + value, 0) / window.length;
    // A window not yet full says nothing: three lost packets at start-up are not a trend.
    if (window.length >= (settings.window ?? 10)) {
      observations.push({
        rule: 'target_lossy',
        ...key,
        active: average > (settings.threshold ?? 100),
        summary: `${average.toFixed(1)} % of keep-alives to ${target} lost over the last ${window.length} runs`,
      });
    }
  }
  return observations;
}

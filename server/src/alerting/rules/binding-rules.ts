/**
 * The binding-lifetime rules: UDP bindings shorter than the site's keep-alive interval (so the
 * keep-alives cannot hold them open), and a lifetime halved since the last measurement.
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { THRESHOLDS } from '@algwatch/protocol/findings/index';
import { numberField, pointOf, type Observation, type RuleContext } from './observation.js';

export function observeBindingLifetime(result: ProbeResultMessage, context: RuleContext): Observation[] {
  if (result.probe !== 'binding-lifetime' || !result.success) return [];
  const point = pointOf(result, 'binding_lifetime');
  const seconds = numberField(point, 'udp_lifetime_s');
  const outlived = point?.fields.outlived_max === true;
  if (seconds === undefined && !outlived) return [];
  const target = result.target;
  const limit = context.settings('udp_binding_short').threshold ?? context.keepaliveIntervalSeconds ?? THRESHOLDS.bindingCriticalSeconds;
  const observations: Observation[] = [
    {
      rule: 'udp_binding_short',
      target,
      active: seconds !== undefined && seconds <= limit,
      summary: `idle UDP bindings expire after about ${seconds ?? '?'} s, at or below the ${limit} s keep-alive interval`,
      evidence: [`UDP binding lifetime: ${seconds ?? '?'} s (keep-alive every ${limit} s)`],
    },
  ];
  const memory = context.memory('udp_binding_halved', target);
  // 'max': the lifetime outlived the longest interval tested (JSON has no Infinity).
  const previous = memory.lastSeconds === 'max' ? Number.POSITIVE_INFINITY : typeof memory.lastSeconds === 'number' ? memory.lastSeconds : undefined;
  // "Outlived the longest interval tested" counts as very long: it can be halved from, not to.
  const current = seconds ?? Number.POSITIVE_INFINITY;
  if (previous !== undefined) {
    const ratio = context.settings('udp_binding_halved').threshold ?? 0.5;
    const halved = Number.isFinite(previous) ? current <= previous * ratio : seconds !== undefined && seconds <= THRESHOLDS.bindingWarningSeconds;
    observations.push({
      rule: 'udp_binding_halved',
      target,
      active: halved,
      summary: `UDP binding lifetime fell from ${Number.isFinite(previous) ? `${previous} s` : 'over the tested maximum'} to ${seconds ?? '?'} s`,
      evidence: [`UDP binding lifetime: ${Number.isFinite(previous) ? previous : 'max+'} s -> ${seconds ?? '?'} s`],
    });
  }
  // Remember the last healthy length only when not halved, so "halved" resolves when it recovers.
  const halvedNow = observations.some((o) => o.rule === 'udp_binding_halved' && o.active);
  if (!halvedNow) memory.lastSeconds = seconds ?? 'max';
  return observations;
}

/**
 * Findings of the binding-lifetime probe: idle UDP bindings that expire before phones' keep-alives
 * (graded against THRESHOLDS), and, raised by the server's alert rules, a lifetime halved since the
 * previous measurement.
 */
import type { ProbeResultMessage } from '../events.js';
import { raise, THRESHOLDS, type Finding, type FindingDefinition, type FindingPlace, type Severity } from './finding.js';

export const BINDING_LIFETIME_FINDINGS = {
  udp_binding_short: {
    code: 'udp_binding_short',
    source: 'binding-lifetime',
    defaultSeverity: 'warning',
    title: 'UDP NAT bindings expire too soon',
    impact: 'Inbound calls stop ringing when the binding expires between keep-alives, until the phone sends again.',
    remediation: `Raise the router's UDP session timeout to at least ${THRESHOLDS.bindingWarningSeconds} s, or shorten the phones' NAT keep-alive below the binding lifetime.`,
  },
  udp_binding_halved: {
    code: 'udp_binding_halved',
    source: 'binding-lifetime',
    defaultSeverity: 'warning',
    title: 'UDP binding lifetime halved',
    impact: "The router now drops idle bindings at least twice as fast as before: a setting or firmware changed, and keep-alives tuned to the old lifetime may now be too slow.",
    remediation: "Ask what changed on the router (firmware update, replaced device, new ISP box); restore its UDP session timeout, or shorten the phones' NAT keep-alive below the new lifetime.",
  },
} as const satisfies Record<string, FindingDefinition>;

/**
 * bindingLifetimeSeverity grades an idle UDP binding lifetime: critical at or below
 * bindingCriticalSeconds (even a 30 s keep-alive loses it), warning below bindingWarningSeconds
 * (RFC 4787 REQ-5), null (fine) from there on.
 */
export function bindingLifetimeSeverity(seconds: number): Severity | null {
  if (seconds <= THRESHOLDS.bindingCriticalSeconds) return 'critical';
  if (seconds < THRESHOLDS.bindingWarningSeconds) return 'warning';
  return null;
}

/** A measured lifetime: udpSeconds null when bindings outlived the longest wait; lowerSeconds the longest idle they survived. */
export interface MeasuredLifetime {
  udpSeconds: number | null;
  lowerSeconds: number;
}

/** bindingLifetimeFindings grades one measurement; none when bindings lived long enough or outlived the test. */
export function bindingLifetimeFindings(lifetime: MeasuredLifetime, place: FindingPlace): Finding[] {
  const seconds = lifetime.udpSeconds;
  if (seconds === null) return [];
  const severity = bindingLifetimeSeverity(seconds);
  if (severity === null) return [];
  // 80 % of the longest idle time the binding survived leaves room for a lost keep-alive's retry.
  const keepalive = Math.max(5, Math.floor(lifetime.lowerSeconds * 0.8));
  const definition = BINDING_LIFETIME_FINDINGS.udp_binding_short;
  const minimum = THRESHOLDS.bindingWarningSeconds;
  return [
    raise(definition, place, severity === 'critical'
      ? {
          severity,
          summary: `UDP NAT bindings expire after about ${seconds} s idle, at or below the ${THRESHOLDS.bindingCriticalSeconds} s keep-alive many phones use`,
          remediation: `Raise the router's UDP session timeout to at least ${minimum} s, or set the phones' NAT keep-alive to ${keepalive} s or less.`,
          evidence: [`idle UDP binding alive at ${lifetime.lowerSeconds} s, gone at ${seconds} s`],
        }
      : {
          severity,
          summary: `UDP NAT bindings expire after about ${seconds} s idle, under the ${minimum / 60} minutes RFC 4787 asks of NATs`,
          remediation: `Set the phones' NAT keep-alive (or registration refresh) to ${keepalive} s or less, or raise the router's UDP session timeout to at least ${minimum} s.`,
          evidence: [`idle UDP binding alive at ${lifetime.lowerSeconds} s, gone at ${seconds} s`],
        }),
  ];
}

/** measuredLifetimeOf reads a stored binding-lifetime result's point; null when it measured nothing. */
export function measuredLifetimeOf(result: Pick<ProbeResultMessage, 'points'>): MeasuredLifetime | null {
  const point = result.points.find((candidate) => candidate.measurement === 'binding_lifetime');
  if (!point || typeof point.fields.lower_s !== 'number') return null;
  if (point.fields.outlived_max === true) return { udpSeconds: null, lowerSeconds: point.fields.lower_s };
  if (typeof point.fields.udp_lifetime_s !== 'number') return null;
  return { udpSeconds: point.fields.udp_lifetime_s, lowerSeconds: point.fields.lower_s };
}

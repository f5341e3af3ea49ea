/**
 * Findings of the binding-lifetime probe: idle UDP bindings that expire before phones' keep-alives
 * (graded against THRESHOLDS), and, raised by the server's alert rules, a lifetime halved since the
 * previous measurement.
 */
import type { KeepaliveAdvice } from '../check-report.js';
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

/**
 * A measured lifetime: udpSeconds (fresh bindings) null when bindings outlived the longest wait;
 * lowerSeconds the longest idle they survived. established*: the same for bindings that carried
 * two-way traffic first; absent when not measured (older agents).
 */
export interface MeasuredLifetime {
  udpSeconds: number | null;
  lowerSeconds: number;
  establishedSeconds?: number | null;
  establishedLowerSeconds?: number;
}

/** Share of the longest idle a binding survived that a keep-alive interval may use: room for a lost keep-alive's retry. */
const KEEPALIVE_MARGIN = 0.8;

/**
 * keepaliveAdvice is the interval phones and PBXs at the site should use: the first keep-alive
 * before the fresh lifetime, every later one before the established lifetime, each with a 20 %
 * margin. Null when fresh bindings outlived the measurement (the NAT needs no keep-alive that often).
 */
export function keepaliveAdvice(lifetime: MeasuredLifetime): KeepaliveAdvice | null {
  if (lifetime.udpSeconds === null) return null;
  const firstSeconds = Math.max(1, Math.floor(lifetime.lowerSeconds * KEEPALIVE_MARGIN));
  const steadyLower = lifetime.establishedLowerSeconds ?? lifetime.lowerSeconds;
  return { firstSeconds, steadySeconds: Math.max(firstSeconds, Math.floor(steadyLower * KEEPALIVE_MARGIN)) };
}

/**
 * bindingLifetimeFindings grades one measurement; none when bindings lived long enough or outlived
 * the test. When established bindings were measured, they decide the severity: phones keep their
 * binding busy (REGISTER, OPTIONS, CRLF every few seconds to minutes), so after their first answered
 * keep-alive it is the established lifetime that their interval must beat. A short fresh lifetime
 * with a long established one is then an info finding: only the first keep-alive must come early.
 */
export function bindingLifetimeFindings(lifetime: MeasuredLifetime, place: FindingPlace): Finding[] {
  if (lifetime.establishedSeconds !== undefined || lifetime.establishedLowerSeconds !== undefined) return gradeFreshAndEstablished(lifetime, place);
  const seconds = lifetime.udpSeconds;
  if (seconds === null) return [];
  const severity = bindingLifetimeSeverity(seconds);
  if (severity === null) return [];
  // 80 % of the longest idle time the binding survived leaves room for a lost keep-alive's retry.
  const keepalive = Math.max(5, Math.floor(lifetime.lowerSeconds * KEEPALIVE_MARGIN));
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

function gradeFreshAndEstablished(lifetime: MeasuredLifetime, place: FindingPlace): Finding[] {
  const fresh = lifetime.udpSeconds;
  const established = lifetime.establishedSeconds ?? null;
  const advice = keepaliveAdvice(lifetime);
  if (fresh === null || advice === null) return [];
  const freshSeverity = bindingLifetimeSeverity(fresh);
  const steadySeverity = established === null ? null : bindingLifetimeSeverity(established);
  if (freshSeverity === null && steadySeverity === null) return [];
  const minimum = THRESHOLDS.bindingWarningSeconds;
  const establishedText = established === null ? `outlived the ${lifetime.establishedLowerSeconds ?? '?'} s measured` : `after about ${established} s`;
  const adviceText = `send the first keep-alive within ${advice.firstSeconds} s of registering and then every ${advice.steadySeconds} s or less`;
  const evidence = [
    `fresh UDP binding (one exchange, then idle): alive at ${lifetime.lowerSeconds} s, gone at ${fresh} s`,
    established === null
      ? `established UDP binding (two-way traffic first): alive at ${lifetime.establishedLowerSeconds ?? '?'} s, the longest idle tested`
      : `established UDP binding (two-way traffic first): alive at ${lifetime.establishedLowerSeconds ?? '?'} s, gone at ${established} s`,
    `keep-alive advice: first within ${advice.firstSeconds} s, then every ${advice.steadySeconds} s`,
  ];
  const summary = `UDP NAT bindings expire after about ${fresh} s idle when fresh, and ${establishedText} once they carried traffic both ways`;
  if (steadySeverity === null) {
    return [raise(BINDING_LIFETIME_FINDINGS.udp_binding_short, place, {
      severity: 'info',
      summary,
      remediation: `Phones that keep their binding busy are fine once their first keep-alive is answered: ${adviceText}.`,
      evidence,
    })];
  }
  return [raise(BINDING_LIFETIME_FINDINGS.udp_binding_short, place, {
    severity: steadySeverity,
    summary,
    remediation: `Even bindings kept busy expire after about ${established} s: ${adviceText}, or raise the router's UDP session timeouts (fresh and stream) to at least ${minimum} s.`,
    evidence,
  })];
}

/** measuredLifetimeOf reads a stored binding-lifetime result's point; null when it measured nothing. */
export function measuredLifetimeOf(result: Pick<ProbeResultMessage, 'points'>): MeasuredLifetime | null {
  const point = result.points.find((candidate) => candidate.measurement === 'binding_lifetime');
  const lower = point?.fields.lower_s;
  if (!point || typeof lower !== 'number') return null;
  const fields = point.fields;
  const fresh = fields.udp_lifetime_s;
  const established: Pick<MeasuredLifetime, 'establishedSeconds' | 'establishedLowerSeconds'> = {};
  const establishedLower = fields.established_lower_s;
  const establishedLifetime = fields.established_lifetime_s;
  if (typeof establishedLower === 'number') {
    if (fields.established_outlived_max === true) Object.assign(established, { establishedSeconds: null, establishedLowerSeconds: establishedLower });
    else if (typeof establishedLifetime === 'number') Object.assign(established, { establishedSeconds: establishedLifetime, establishedLowerSeconds: establishedLower });
  }
  if (fields.outlived_max === true) return { udpSeconds: null, lowerSeconds: lower, ...established };
  if (typeof fresh !== 'number') return null;
  return { udpSeconds: fresh, lowerSeconds: lower, ...established };
}

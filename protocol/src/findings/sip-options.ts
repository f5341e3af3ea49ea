/**
 * Findings about the site's SIP peers (PBX, trunk, registrar) from the sip-options keep-alive:
 * error answers, a 503 that says "maintenance", a slow peer; and, raised by the server's alert
 * rules from consecutive results, a peer that is down or loses too many requests.
 */
import type { ProbeResultMessage } from '../events.js';
import { raise, THRESHOLDS, type Finding, type FindingDefinition, type FindingPlace, type Severity } from './finding.js';

/** RFC 3261 §21.5.4: 503 Service Unavailable, what a peer sends while it is being maintained or overloaded. */
export const MAINTENANCE_STATUS_CODE = 503;
/** Final responses from this code up are error answers to a keep-alive OPTIONS (2xx is the only success). */
export const ERROR_STATUS_FROM = 300;

export const SIP_OPTIONS_FINDINGS = {
  target_down: {
    code: 'target_down',
    source: 'sip-options',
    defaultSeverity: 'critical',
    title: 'SIP peer not answering',
    impact: 'Phones cannot register with this peer or place calls through it.',
    remediation: `The peer answered none of the last ${THRESHOLDS.targetDownConsecutive} keep-alive runs: check it is up, that its address and port are right, and that the site's firewall lets SIP out to it.`,
  },
  target_error: {
    code: 'target_error',
    source: 'sip-options',
    defaultSeverity: 'warning',
    title: 'SIP peer answering with errors',
    impact: 'The peer is reachable but refuses requests: registrations or calls through it may fail.',
    remediation: "Look up the status code in the peer's logs (403: the site's address is not allowed; 404: wrong domain; 5xx: the peer has trouble).",
  },
  target_maintenance: {
    code: 'target_maintenance',
    source: 'sip-options',
    defaultSeverity: 'info',
    title: 'SIP peer in maintenance',
    impact: 'The peer answers 503 Service Unavailable: phones fail over to another peer, or cannot call until it is back.',
    remediation: "Check whether the provider announced maintenance; if it lasts, ask them, and make sure the phones have a secondary peer.",
  },
  target_slow: {
    code: 'target_slow',
    source: 'sip-options',
    defaultSeverity: 'warning',
    title: 'SIP peer slow to answer',
    impact: `Round trips over ${THRESHOLDS.keepaliveRttSlowMs} ms make call setup slow and audio delayed.`,
    remediation: "Look for congestion on the site's uplink (a QoS rule for SIP and RTP helps) or a long route to the peer; pick a closer peer where the provider has one.",
  },
  target_lossy: {
    code: 'target_lossy',
    source: 'sip-options',
    defaultSeverity: 'warning',
    title: 'SIP peer losing requests',
    impact: `More than ${THRESHOLDS.keepaliveLossPct} % of keep-alives get no answer: audio on this path breaks up, and registrations can lapse.`,
    remediation: "Look for loss on the site's uplink (a saturated link, a bad cable or Wi-Fi) and prioritise SIP and RTP with QoS.",
  },
} as const satisfies Record<string, FindingDefinition>;

/** sipStatusSeverity grades a final response to a keep-alive: null for 1xx/2xx, target_maintenance's for 503, target_error's otherwise. */
export function sipStatusSeverity(statusCode: number): Severity | null {
  if (statusCode < ERROR_STATUS_FROM) return null;
  return statusCode === MAINTENANCE_STATUS_CODE ? SIP_OPTIONS_FINDINGS.target_maintenance.defaultSeverity : SIP_OPTIONS_FINDINGS.target_error.defaultSeverity;
}

/** slowRttFindings: target_slow when a keep-alive's round trip is over keepaliveRttSlowMs. Shared with crlf-keepalive. */
export function slowRttFindings(rttMs: number | undefined, kind: string, place: FindingPlace): Finding[] {
  if (rttMs === undefined || rttMs <= THRESHOLDS.keepaliveRttSlowMs) return [];
  return [raise(SIP_OPTIONS_FINDINGS.target_slow, place, {
    summary: `${place.target ?? 'SIP peer'} answers ${kind} in ${rttMs.toFixed(0)} ms, over ${THRESHOLDS.keepaliveRttSlowMs} ms`,
    evidence: [`${kind} round trip ${rttMs.toFixed(1)} ms`],
  })];
}

/** sipOptionsFindings grades one stored sip-options result: its status code and its RTT. A run without an answer raises nothing here (target_down counts runs). */
export function sipOptionsFindings(result: Pick<ProbeResultMessage, 'points'>, place: FindingPlace): Finding[] {
  const point = result.points.find((candidate) => candidate.measurement === 'sip_options');
  if (!point) return [];
  const findings: Finding[] = [];
  const status = point.fields.status_code;
  if (typeof status === 'number' && sipStatusSeverity(status) !== null) {
    const maintenance = status === MAINTENANCE_STATUS_CODE;
    findings.push(raise(maintenance ? SIP_OPTIONS_FINDINGS.target_maintenance : SIP_OPTIONS_FINDINGS.target_error, place, {
      summary: `${place.target ?? 'SIP peer'} answers keep-alive OPTIONS with ${status}${maintenance ? ' (maintenance)' : ''}`,
      evidence: [`OPTIONS -> ${status}`],
    }));
  }
  const rtt = point.fields.rtt_ms;
  findings.push(...slowRttFindings(typeof rtt === 'number' ? rtt : undefined, 'OPTIONS', place));
  return findings;
}

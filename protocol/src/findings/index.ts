/**
 * The findings catalogue: the one answer to "what is wrong, how bad, what to do" that `check`, the
 * status page, the server's alert rules and the Grafana dashboards' thresholds all read. One file
 * per probe defines its codes and grades its measurements; this file joins them.
 *
 * Stateless findings come from one stored result (findingsOfResult). Stateful ones (consecutive
 * failures, a halved lifetime, a changed address, a worse NAT, loss over a window, agent offline)
 * are evaluated by the server's alert rules, which take their definitions from FINDINGS.
 */
import type { ProbeResultMessage } from '../events.js';
import type { SipTransport } from '../check-report.js';
import { AGENT_FINDINGS } from './agent.js';
import { BINDING_LIFETIME_FINDINGS, bindingLifetimeFindings, measuredLifetimeOf } from './binding-lifetime.js';
import { crlfKeepaliveFindings } from './crlf-keepalive.js';
import { SEVERITY_RANK, type Finding, type FindingCode, type FindingDefinition, type FindingPlace } from './finding.js';
import { NAT_BEHAVIOR_FINDINGS, natMappingFindings, natMappingOf } from './nat-behavior.js';
import { SIP_ALG_FINDINGS, sipAlgFindings, sipAlgReportOf, resultTransportOf } from './sip-alg.js';
import { SIP_OPTIONS_FINDINGS, sipOptionsFindings } from './sip-options.js';
import { RTP_PATH_FINDINGS, rtpPathFindings, rtpReportOf } from './rtp-path.js';
import { STUN_MAPPING_FINDINGS, stunAnswered, stunMappingFindings } from './stun-mapping.js';

export * from './finding.js';
export { ALG_SETTING_LOCATIONS, answeredTransports, sipAlgFindings, sipAlgReportOf, resultTransportOf } from './sip-alg.js';
export { bindingLifetimeFindings, bindingLifetimeSeverity, measuredLifetimeOf, type MeasuredLifetime } from './binding-lifetime.js';
export { isSymmetricMapping, natMappingFindings, natMappingOf, natMappingSeverity } from './nat-behavior.js';
export { ERROR_STATUS_FROM, MAINTENANCE_STATUS_CODE, sipOptionsFindings, sipStatusSeverity } from './sip-options.js';
export { stunMappingFindings } from './stun-mapping.js';
export { crlfKeepaliveFindings } from './crlf-keepalive.js';
export { rtpMosSeverity, rtpPathFindings, rtpReportOf } from './rtp-path.js';

/** FINDINGS defines every code algwatch knows, keyed by the code itself. */
export const FINDINGS: Readonly<Record<FindingCode, FindingDefinition>> = Object.freeze({
  ...SIP_ALG_FINDINGS,
  ...STUN_MAPPING_FINDINGS,
  ...NAT_BEHAVIOR_FINDINGS,
  ...BINDING_LIFETIME_FINDINGS,
  ...SIP_OPTIONS_FINDINGS,
  ...RTP_PATH_FINDINGS,
  ...AGENT_FINDINGS,
});

/** FINDING_CODES lists every code in the catalogue's order (by probe, worst usually first). */
export const FINDING_CODES = Object.keys(FINDINGS) as FindingCode[];

const CATALOGUE_ORDER = new Map(FINDING_CODES.map((code, index) => [code, index]));

/** compareFindings orders findings worst first, then in catalogue order (the ALG before NAT before bindings). */
export function compareFindings(a: Finding, b: Finding): number {
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || CATALOGUE_ORDER.get(a.code)! - CATALOGUE_ORDER.get(b.code)!;
}

/**
 * findingsOfResult is the stateless findings one stored probe result shows, from its points and
 * its detail (parsed, never trusted: it comes from an agent). An empty list means nothing wrong was
 * seen in it, including when the run failed in a way only a series of results can judge.
 *
 * `siblings` are the other newest results of the same site (e.g. the same round's other SIP
 * transports). Only the sip_*_blocked codes need them: one blocked transport is a finding when
 * another transport to the same reflector answered; without siblings that is unknown, and a blocked
 * transport raises nothing (a reflector that is unreachable altogether is not three port problems).
 */
export function findingsOfResult(result: ProbeResultMessage, siblings: readonly ProbeResultMessage[] = []): Finding[] {
  const place: FindingPlace = { target: result.target };
  switch (result.probe) {
    case 'sip-alg': {
      const transport = resultTransportOf(result);
      const report = sipAlgReportOf(result);
      if (!transport || !report) return [];
      return sipAlgFindings(transport, report, place, answeredOverOf(result, siblings));
    }
    case 'stun-mapping':
      return stunMappingFindings(stunAnswered(result), result.error, place);
    case 'nat-behavior': {
      const mapping = natMappingOf(result);
      return mapping ? natMappingFindings(mapping, place) : [];
    }
    case 'binding-lifetime': {
      const lifetime = measuredLifetimeOf(result);
      return lifetime ? bindingLifetimeFindings(lifetime, place) : [];
    }
    case 'sip-options':
      return sipOptionsFindings(result, withTransport(place, result));
    case 'crlf-keepalive':
      return crlfKeepaliveFindings(result, withTransport(place, result));
    case 'rtp-path': {
      const report = rtpReportOf(result);
      return report ? rtpPathFindings(report, place) : [];
    }
  }
}

/** findingsOfResults is every result's findings, each judged with the others as its siblings. */
export function findingsOfResults(results: readonly ProbeResultMessage[]): Finding[] {
  return results.flatMap((result) => findingsOfResult(result, results));
}

/** answeredOverOf lists the SIP transports a sibling sip-alg result to the same target got an answer over. */
function answeredOverOf(result: ProbeResultMessage, siblings: readonly ProbeResultMessage[]): SipTransport[] {
  const answered = new Set<SipTransport>();
  for (const sibling of siblings) {
    if (sibling === result || sibling.probe !== 'sip-alg' || sibling.target !== result.target) continue;
    const transport = resultTransportOf(sibling);
    const status = sibling.points.find((point) => point.measurement === 'sip_alg')?.tags.result;
    if (transport && (status === 'clean' || status === 'detected')) answered.add(transport);
  }
  return [...answered];
}

function withTransport(place: FindingPlace, result: ProbeResultMessage): FindingPlace {
  const transport = resultTransportOf(result);
  return transport ? { ...place, transport } : place;
}

/**
 * Findings of the stun-mapping probe: STUN getting no answer, and, raised by the server's alert
 * rules from consecutive results, a public address that changed or port preservation lost.
 */
import type { ProbeResultMessage } from '../events.js';
import { clip, raise, type Finding, type FindingDefinition, type FindingPlace } from './finding.js';

export const STUN_MAPPING_FINDINGS = {
  stun_failing: {
    code: 'stun_failing',
    source: 'stun-mapping',
    defaultSeverity: 'warning',
    title: 'STUN gets no answer',
    impact: 'The NAT cannot be measured, and phones or softphones that use STUN/ICE to find their public address will fail to set up media (one-way or no audio).',
    remediation: 'Check the firewall for a rule dropping outbound UDP 3478 (STUN) and allow it.',
  },
  public_address_changed: {
    code: 'public_address_changed',
    source: 'stun-mapping',
    defaultSeverity: 'info',
    title: 'Public address changed',
    impact: 'Phones keep registering from the old address until their next refresh: inbound calls can miss them meanwhile, and a provider allow-list by IP stops matching.',
    remediation: 'If the site should have a fixed address, ask the ISP; otherwise update any IP allow-lists at the provider and keep registration intervals short.',
  },
  port_preservation_lost: {
    code: 'port_preservation_lost',
    source: 'stun-mapping',
    defaultSeverity: 'info',
    title: 'NAT no longer preserves source ports',
    impact: 'The router now rewrites the source port of outbound UDP: providers that expect the phones\' own ports (without rport) may send calls to the wrong port.',
    remediation: 'Ask what changed on the router; a "static port" rule for the phones\' ports restores it.',
  },
} as const satisfies Record<string, FindingDefinition>;

/** stunMappingFindings: a stun-mapping run that got no answer is stun_failing; an answer raises nothing by itself. */
export function stunMappingFindings(answered: boolean, reason: string | undefined, place: FindingPlace): Finding[] {
  if (answered) return [];
  return [raise(STUN_MAPPING_FINDINGS.stun_failing, place, {
    summary: 'No STUN answer: NAT type unknown (UDP 3478 blocked?)',
    evidence: reason ? [clip(reason, 300)] : [],
  })];
}

/** stunAnswered tells whether a stored stun-mapping result got its answer. */
export function stunAnswered(result: Pick<ProbeResultMessage, 'success' | 'points'>): boolean {
  return result.success && result.points.some((point) => point.measurement === 'stun_mapping');
}

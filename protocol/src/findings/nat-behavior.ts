/**
 * Findings of the nat-behavior probe (RFC 5780 / RFC 4787): a symmetric NAT, and, raised by the
 * server's alert rules, a mapping that got worse than it was.
 */
import type { ProbeResultMessage } from '../events.js';
import { NAT_BEHAVIOURS, type NatBehaviour } from '../measurements.js';
import { raise, type Finding, type FindingDefinition, type FindingPlace, type Severity } from './finding.js';

const SYMMETRIC_IMPACT =
  'Media from the provider may not find its way back (one-way audio) unless the provider does NAT traversal (rport, symmetric RTP, an SBC).';
const SYMMETRIC_REMEDIATION =
  'Switch the router to endpoint-independent mapping ("full cone"/"consistent NAT"/"static port" for the phones), or confirm the provider handles symmetric NAT.';

export const NAT_BEHAVIOR_FINDINGS = {
  nat_symmetric: {
    code: 'nat_symmetric',
    source: 'nat-behavior',
    defaultSeverity: 'warning',
    title: 'Symmetric NAT',
    impact: SYMMETRIC_IMPACT,
    remediation: SYMMETRIC_REMEDIATION,
  },
  nat_mapping_worse: {
    code: 'nat_mapping_worse',
    source: 'nat-behavior',
    defaultSeverity: 'warning',
    title: 'NAT mapping got worse',
    impact: `The NAT now gives a new public port per destination where it did not before. ${SYMMETRIC_IMPACT}`,
    remediation: `Ask what changed on the router (firmware update, replaced device, new ISP box). ${SYMMETRIC_REMEDIATION}`,
  },
} as const satisfies Record<string, FindingDefinition>;

/** isSymmetricMapping: the public port changes with each destination (RFC 4787 address- or address-and-port-dependent mapping). */
export function isSymmetricMapping(mapping: NatBehaviour): boolean {
  return mapping === 'address-dependent' || mapping === 'address-and-port-dependent';
}

/** natMappingSeverity grades a mapping behaviour: nat_symmetric's severity when symmetric, null otherwise (unknown included). */
export function natMappingSeverity(mapping: NatBehaviour): Severity | null {
  return isSymmetricMapping(mapping) ? NAT_BEHAVIOR_FINDINGS.nat_symmetric.defaultSeverity : null;
}

/** natMappingFindings grades one classified mapping. */
export function natMappingFindings(mapping: NatBehaviour, place: FindingPlace): Finding[] {
  if (!isSymmetricMapping(mapping)) return [];
  return [raise(NAT_BEHAVIOR_FINDINGS.nat_symmetric, place, {
    summary: `Symmetric NAT: the public port changes with each destination (mapping ${mapping})`,
    evidence: [`RFC 5780 mapping test: ${mapping}`],
  })];
}

/** natMappingOf reads the mapping of a stored nat-behavior result from its point's tag; null when absent or not a behaviour. */
export function natMappingOf(result: Pick<ProbeResultMessage, 'points'>): NatBehaviour | null {
  const mapping = result.points.find((candidate) => candidate.measurement === 'nat_behavior')?.tags.mapping;
  return (NAT_BEHAVIOURS as readonly string[]).includes(mapping ?? '') ? (mapping as NatBehaviour) : null;
}

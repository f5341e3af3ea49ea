import { describe, expect, it } from 'vitest';
import { PROBE_NAMES } from '../events.js';
import { blockedSip, cleanSip, sipAlgResult, siteWithEveryProblem, stunMappingResult } from '../../../test/helpers/probe-results.js';
import { FINDING_CODES, FINDINGS, findingsOfResult, findingsOfResults, type FindingCode } from './index.js';

// The contract's list (notes/contracts.md §1): every code must have a definition, and no other.
const CONTRACT_CODES: FindingCode[] = [
  'sip_alg_udp', 'sip_alg_tcp', 'sip_tls_intercepted',
  'sip_udp_blocked', 'sip_tcp_blocked', 'sip_tls_blocked',
  'nat_symmetric', 'nat_mapping_worse', 'public_address_changed', 'port_preservation_lost',
  'udp_binding_short', 'udp_binding_halved',
  'target_down', 'target_error', 'target_maintenance', 'target_slow', 'target_lossy',
  'stun_failing', 'agent_offline',
  // The alert rules' absence of results (issue 11).
  'site_no_results',
  // Added by issue 14 (the contract is extended only by adding).
  'rtp_no_audio', 'rtp_one_way_audio', 'rtp_pinhole_open', 'rtp_poor_mos',
  'sip_alg_on_path',
];

describe('FINDINGS', () => {
  it('defines every code of the contract, each under its own code, with words a technician can act on', () => {
    expect([...FINDING_CODES].sort()).toEqual([...CONTRACT_CODES].sort());
    for (const code of FINDING_CODES) {
      const definition = FINDINGS[code];
      expect(definition.code).toBe(code);
      expect([...PROBE_NAMES, 'agent']).toContain(definition.source);
      for (const text of [definition.title, definition.impact, definition.remediation]) expect(text.length).toBeGreaterThan(5);
    }
  });
});

describe('findingsOfResult', () => {
  it('finds the ALG, the blocked TLS, the symmetric NAT and both short bindings in a site\'s round', () => {
    const found = findingsOfResults(siteWithEveryProblem()).map((f) => `${f.code} ${f.severity} ${f.target}${f.transport ? `/${f.transport}` : ''}`);
    expect(found).toEqual([
      'sip_alg_udp critical reflector.example.net/udp',
      'sip_tls_blocked warning reflector.example.net/tls',
      'nat_symmetric warning reflector.example.net',
      'udp_binding_short critical reflector-a',
      'udp_binding_short warning reflector-b',
    ]);
  });

  it('needs a sibling that answered before it blames a blocked transport', () => {
    const tls = sipAlgResult('tls', blockedSip('tls'));
    expect(findingsOfResult(tls)).toEqual([]);
    expect(findingsOfResult(tls, [sipAlgResult('udp', blockedSip('udp'))])).toEqual([]);
    expect(findingsOfResult(tls, [sipAlgResult('udp', cleanSip)]).map((f) => f.code)).toEqual(['sip_tls_blocked']);
    const elsewhere = { ...sipAlgResult('udp', cleanSip), target: 'other-reflector' };
    expect(findingsOfResult(tls, [elsewhere])).toEqual([]);
  });

  it('reports a failed STUN run', () => {
    expect(findingsOfResult(stunMappingResult(false)).map((f) => f.code)).toEqual(['stun_failing']);
  });

  it('reads nothing into a result whose detail is garbage and whose point says nothing', () => {
    const result = { ...sipAlgResult('udp', cleanSip), detail: { status: 'detected', rewrites: 'lots' } };
    expect(findingsOfResult(result)).toEqual([]);
  });
});

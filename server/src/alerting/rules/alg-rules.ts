/**
 * The sip-alg result rules: SIP ALG detected (per transport, with the rewritten fields), SIP over
 * TLS intercepted, SIP over UDP blocked. The verdicts and their wording come from the findings
 * catalogue (findingsOfResult); only "blocked N times in a row" is remembered here.
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { SipAlgTransportReport } from '@algwatch/protocol/check-report';
import { findingsOfResult } from '@algwatch/protocol/findings/index';
import type { RuleName } from '../rule-settings.js';
import { countConsecutive, type Observation, type RuleContext } from './observation.js';

const ALG_RULE: Record<'udp' | 'tcp' | 'tls', RuleName> = { udp: 'sip_alg_udp', tcp: 'sip_alg_tcp', tls: 'sip_tls_intercepted' };

/** observeSipAlg: detected -> active, clean -> inactive; blocked or error say nothing about an ALG. */
export function observeSipAlg(result: ProbeResultMessage, context: RuleContext): Observation[] {
  const transport = result.transport;
  if (result.probe !== 'sip-alg' || !transport) return [];
  const status = (result.detail as Partial<SipAlgTransportReport> | null)?.status;
  // A clean run raises nothing: the catalogue (which parses the whole detail) is asked only when
  // there may be something to say, which keeps the common case cheap on the ingest path.
  const findings = status === 'clean' ? [] : findingsOfResult(result);
  const observations: Observation[] = [];
  const rule = ALG_RULE[transport];
  if (status === 'detected' || status === 'clean') {
    const finding = findings.find((f) => f.code === rule);
    observations.push({
      rule,
      target: result.target,
      transport,
      active: finding !== undefined,
      ...(finding ? { summary: finding.summary, evidence: finding.evidence } : {}),
    });
  }
  if (transport === 'udp' && (status === 'blocked' || status === 'detected' || status === 'clean')) {
    const memory = context.memory('sip_udp_blocked', result.target, transport);
    const blocked = countConsecutive(memory, status === 'blocked');
    const needed = context.settings('sip_udp_blocked').threshold ?? 1;
    const finding = findings.find((f) => f.code === 'sip_udp_blocked');
    observations.push({
      rule: 'sip_udp_blocked',
      target: result.target,
      transport,
      active: blocked >= needed,
      summary: finding?.summary ?? `SIP over UDP got no answer ${blocked} times in a row`,
      evidence: finding?.evidence ?? [],
    });
  }
  return observations;
}

/**
 * STAND-IN for protocol/src/findings (contract 1, built on branch `findings`): only what the alert
 * engine reads. Deleted when `findings` lands on main; imports then point at
 * '@algwatch/protocol/findings/index'.
 */
import type { ProbeName, ProbeResultMessage } from '@algwatch/protocol/events';
import type { SipAlgTransportReport } from '@algwatch/protocol/check-report';

export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITY_RANK: Record<Severity, number> = { critical: 3, warning: 2, info: 1 };

export type FindingCode =
  | 'sip_alg_udp' | 'sip_alg_tcp' | 'sip_tls_intercepted'
  | 'sip_udp_blocked' | 'sip_tcp_blocked' | 'sip_tls_blocked'
  | 'nat_symmetric' | 'nat_mapping_worse' | 'public_address_changed' | 'port_preservation_lost'
  | 'udp_binding_short' | 'udp_binding_halved'
  | 'target_down' | 'target_error' | 'target_maintenance' | 'target_slow' | 'target_lossy'
  | 'stun_failing' | 'agent_offline';

export interface FindingDefinition {
  code: FindingCode;
  source: ProbeName | 'agent';
  defaultSeverity: Severity;
  title: string;
  impact: string;
  remediation: string;
}

export interface Finding {
  code: FindingCode;
  severity: Severity;
  summary: string;
  remediation: string;
  target?: string;
  transport?: 'udp' | 'tcp' | 'tls';
  evidence: string[];
}

export const THRESHOLDS = {
  bindingCriticalSeconds: 30,
  bindingWarningSeconds: 120,
  keepaliveRttSlowMs: 300,
  keepaliveLossPct: 5,
  targetDownConsecutive: 3,
} as const;

const define = (code: FindingCode, source: ProbeName | 'agent', defaultSeverity: Severity, title: string): FindingDefinition => ({
  code,
  source,
  defaultSeverity,
  title,
  impact: `${title} (stand-in text)`,
  remediation: `fix: ${title} (stand-in text)`,
});

export const FINDINGS: Readonly<Record<FindingCode, FindingDefinition>> = {
  sip_alg_udp: define('sip_alg_udp', 'sip-alg', 'critical', 'SIP ALG rewriting SIP over UDP'),
  sip_alg_tcp: define('sip_alg_tcp', 'sip-alg', 'critical', 'SIP ALG rewriting SIP over TCP'),
  sip_tls_intercepted: define('sip_tls_intercepted', 'sip-alg', 'warning', 'SIP over TLS intercepted'),
  sip_udp_blocked: define('sip_udp_blocked', 'sip-alg', 'critical', 'SIP over UDP blocked'),
  sip_tcp_blocked: define('sip_tcp_blocked', 'sip-alg', 'warning', 'SIP over TCP blocked'),
  sip_tls_blocked: define('sip_tls_blocked', 'sip-alg', 'warning', 'SIP over TLS blocked'),
  nat_symmetric: define('nat_symmetric', 'nat-behavior', 'warning', 'Symmetric NAT'),
  nat_mapping_worse: define('nat_mapping_worse', 'nat-behavior', 'warning', 'NAT mapping got worse'),
  public_address_changed: define('public_address_changed', 'stun-mapping', 'info', 'Public address changed'),
  port_preservation_lost: define('port_preservation_lost', 'stun-mapping', 'info', 'Port preservation lost'),
  udp_binding_short: define('udp_binding_short', 'binding-lifetime', 'critical', 'UDP bindings expire too soon'),
  udp_binding_halved: define('udp_binding_halved', 'binding-lifetime', 'warning', 'UDP binding lifetime halved'),
  target_down: define('target_down', 'sip-options', 'critical', 'SIP peer not answering'),
  target_error: define('target_error', 'sip-options', 'warning', 'SIP peer answering with errors'),
  target_maintenance: define('target_maintenance', 'sip-options', 'info', 'SIP peer in maintenance (503)'),
  target_slow: define('target_slow', 'sip-options', 'warning', 'SIP peer slow'),
  target_lossy: define('target_lossy', 'sip-options', 'warning', 'SIP keep-alives lost'),
  stun_failing: define('stun_failing', 'stun-mapping', 'warning', 'STUN failing'),
  agent_offline: define('agent_offline', 'agent', 'critical', 'Agent offline'),
};

/** Stand-in: the sip-alg findings only (the ones the alert rules take from the catalogue). */
export function findingsOfResult(result: ProbeResultMessage): Finding[] {
  if (result.probe !== 'sip-alg' || !result.transport) return [];
  const report = result.detail as SipAlgTransportReport | null;
  if (!report || typeof report !== 'object') return [];
  const transport = result.transport;
  const evidence = (report.rewrites ?? []).slice(0, 20).map((r) => `${r.direction} ${r.field}: ${r.sent} -> ${r.received}`.slice(0, 300));
  const finding = (code: FindingCode, summary: string): Finding => ({
    code,
    severity: FINDINGS[code].defaultSeverity,
    summary,
    remediation: FINDINGS[code].remediation,
    target: result.target,
    transport,
    evidence,
  });
  if (report.status === 'detected') {
    const fields = [...new Set(report.rewrites.map((r) => r.field))].join(', ');
    if (transport === 'tls') return [finding('sip_tls_intercepted', 'SIP over TLS was changed on the way')];
    return [finding(transport === 'udp' ? 'sip_alg_udp' : 'sip_alg_tcp', `SIP ALG is rewriting SIP over ${transport.toUpperCase()} (${fields})`)];
  }
  if (report.status === 'blocked' && transport === 'udp') return [finding('sip_udp_blocked', 'SIP over UDP blocked or dropped')];
  return [];
}

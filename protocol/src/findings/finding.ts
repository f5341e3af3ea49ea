/**
 * The shapes every findings file shares: severities, codes, definitions, concrete findings, the
 * thresholds consumers grade by, and the bounds that keep a finding small whatever an agent sent.
 * index.ts re-exports all of it; probe files import it from here so index.ts can import them.
 */
import type { ProbeName } from '../events.js';
import type { SipTransport } from '../check-report.js';

export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** SEVERITY_RANK orders severities: sort by descending rank to list the worst first. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 3, warning: 2, info: 1 };

/** Every finding code algwatch knows, check's and the alert rules' alike. */
export type FindingCode =
  | 'sip_alg_udp' | 'sip_alg_tcp' | 'sip_tls_intercepted'
  | 'sip_udp_blocked' | 'sip_tcp_blocked' | 'sip_tls_blocked'
  | 'nat_symmetric' | 'nat_mapping_worse' | 'public_address_changed' | 'port_preservation_lost'
  | 'udp_binding_short' | 'udp_binding_halved'
  | 'target_down' | 'target_error' | 'target_maintenance' | 'target_slow' | 'target_lossy'
  | 'stun_failing' | 'agent_offline' | 'site_no_results'
  | 'rtp_no_audio' | 'rtp_one_way_audio' | 'rtp_pinhole_open' | 'rtp_poor_mos'
  | 'sip_alg_on_path';

export interface FindingDefinition {
  code: FindingCode;
  /** The probe whose results raise it; 'agent' for agent_offline. */
  source: ProbeName | 'agent';
  defaultSeverity: Severity;
  /** Short title for lists and alert subjects: "SIP ALG rewriting SIP over UDP". */
  title: string;
  /** What it means for calls, in plain words. */
  impact: string;
  /** What to do (for the ALG: the router-brand steps). */
  remediation: string;
}

/** One concrete finding: a definition applied to a measurement. */
export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** One line with the specifics: "SIP ALG is rewriting SIP over UDP (outbound and inbound: Via, Contact, SDP c=)". */
  summary: string;
  remediation: string;
  target?: string;
  transport?: SipTransport;
  /** What changed, one line each. At most MAX_EVIDENCE_LINES lines of at most MAX_EVIDENCE_CHARS chars. */
  evidence: string[];
}

/** Thresholds every consumer reads (check, status page, alert rules, Grafana thresholds): never a literal elsewhere. */
export const THRESHOLDS = {
  /** At or below: critical. The NAT keep-alive interval many desk phones ship with. */
  bindingCriticalSeconds: 30,
  /** Below: warning. RFC 4787 REQ-5: a UDP mapping must not expire in less than 2 minutes. */
  bindingWarningSeconds: 120,
  /** Keep-alive RTT over this: target_slow. ITU-T G.114 keeps one-way delay under 150 ms, so 300 ms round trip. */
  keepaliveRttSlowMs: 300,
  /** OPTIONS loss over this across the alert window: target_lossy. Voice degrades audibly past a few percent. */
  keepaliveLossPct: 5,
  /** Consecutive unanswered keep-alive runs before target_down. */
  targetDownConsecutive: 3,
  /** A test call's MOS under this: rtp_poor_mos warning. G.107 Annex B: R 70, "some users dissatisfied". */
  rtpMosPoor: 3.6,
  /** Under this: critical. G.107 Annex B: R 60, "many users dissatisfied". */
  rtpMosCritical: 3.1,
} as const satisfies {
  bindingCriticalSeconds: 30;
  bindingWarningSeconds: 120;
  keepaliveRttSlowMs: number;
  keepaliveLossPct: number;
  targetDownConsecutive: 3;
  rtpMosPoor: number;
  rtpMosCritical: number;
};

export const MAX_EVIDENCE_LINES = 20;
export const MAX_EVIDENCE_CHARS = 300;
/** A summary is one line on a status page or in a subject: longer text is cut. */
export const MAX_SUMMARY_CHARS = 300;

/** clip cuts text to at most max characters, ending with "…" when it was cut; line breaks become spaces. */
export function clip(text: string, max: number): string {
  const line = text.length > max * 4 ? text.slice(0, max * 4) : text; // never scan a megabyte for newlines
  const flat = line.replace(/[\r\n]+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** boundEvidence keeps the first MAX_EVIDENCE_LINES lines, each clipped to MAX_EVIDENCE_CHARS. */
export function boundEvidence(lines: readonly string[]): string[] {
  return lines.slice(0, MAX_EVIDENCE_LINES).map((line) => clip(line, MAX_EVIDENCE_CHARS));
}

/** Where a finding was seen: the result's target and transport, when it has them. */
export interface FindingPlace {
  target?: string;
  transport?: SipTransport;
}

/**
 * raise applies a definition to one measurement: the definition's default severity and remediation
 * unless the measurement calls for others, the summary clipped to one line and the evidence bounded.
 */
export function raise(
  definition: FindingDefinition,
  place: FindingPlace,
  found: { summary: string; severity?: Severity; remediation?: string; evidence?: readonly string[] },
): Finding {
  const finding: Finding = {
    code: definition.code,
    severity: found.severity ?? definition.defaultSeverity,
    summary: clip(found.summary, MAX_SUMMARY_CHARS),
    remediation: found.remediation ?? definition.remediation,
    evidence: boundEvidence(found.evidence ?? []),
  };
  if (place.target !== undefined) finding.target = place.target;
  if (place.transport !== undefined) finding.transport = place.transport;
  return finding;
}

/** worstFirst sorts findings by descending severity, keeping the catalogue's order within one severity. */
export function worstFirst(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
}

/** worstSeverity is the highest severity among the findings, or null when there are none. */
export function worstSeverity(findings: readonly Pick<Finding, 'severity'>[]): Severity | null {
  let worst: Severity | null = null;
  for (const { severity } of findings) if (worst === null || SEVERITY_RANK[severity] > SEVERITY_RANK[worst]) worst = severity;
  return worst;
}

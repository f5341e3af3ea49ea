/**
 * Findings of the sip-alg probe: an ALG rewriting SIP over UDP or TCP, something terminating SIP
 * over TLS, and a transport that gets no answer while another one does.
 */
import * as z from '../zod.js';
import { SIP_TRANSPORTS, sipAlgTransportReportSchema, type SipAlgTransportReport, type SipTransport } from '../check-report.js';
import type { ProbeResultMessage } from '../events.js';
import { raise, type Finding, type FindingDefinition, type FindingPlace } from './finding.js';

/** Where the SIP ALG switch lives on routers MSPs meet most; the README has the same list. */
export const ALG_SETTING_LOCATIONS =
  'Netgear: Advanced > Setup > WAN Setup > "Disable SIP ALG"; TP-Link: Advanced > NAT Forwarding > ALG > SIP ALG; ' +
  'ASUS: WAN > NAT Passthrough > SIP Passthrough; FortiGate: set default-voip-alg-mode kernel-helper-based and delete the sip session-helper; ' +
  'SonicWall: VoIP > Settings > "Enable SIP Transformations"; MikroTik: IP > Firewall > Service Ports > sip; ' +
  'Ubiquiti EdgeOS: set system conntrack modules sip disable; DrayTek: NAT > ALG > SIP; Zyxel: Network > ALG > SIP ALG; ' +
  'Linux/OpenWrt: remove the sip conntrack helper (nf_nat_sip)';

const TRANSPORT_NAMES: Readonly<Record<SipTransport, string>> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };

const ALG_IMPACT = 'Expect one-way or no audio, inbound calls that never ring and registrations that drop.';
const ALG_REMEDIATION =
  `Turn SIP ALG off on the router (${ALG_SETTING_LOCATIONS}); reboot it and run this check again. ` +
  'Where it cannot be turned off, move the phones to SIP over TLS on port 5061, which an ALG cannot read.';

const algDefinition = (transport: 'udp' | 'tcp'): FindingDefinition => ({
  code: `sip_alg_${transport}`,
  source: 'sip-alg',
  defaultSeverity: 'critical',
  title: `SIP ALG rewriting SIP over ${TRANSPORT_NAMES[transport]}`,
  impact: ALG_IMPACT,
  remediation: ALG_REMEDIATION,
});

export const SIP_ALG_FINDINGS = {
  sip_alg_udp: algDefinition('udp'),
  sip_alg_tcp: algDefinition('tcp'),
  sip_tls_intercepted: {
    code: 'sip_tls_intercepted',
    source: 'sip-alg',
    defaultSeverity: 'warning',
    title: 'SIP over TLS intercepted',
    impact: 'Something in the path terminates TLS and re-writes SIP: the way around a SIP ALG is not open, and calls may break the way they do behind an ALG.',
    remediation: 'Find the device that terminates TLS on port 5061 (firewall SSL inspection, SIP proxy) and exempt SIP from it.',
  },
  sip_udp_blocked: {
    code: 'sip_udp_blocked',
    source: 'sip-alg',
    defaultSeverity: 'critical',
    title: 'SIP over UDP blocked',
    impact: 'Phones using UDP will not register.',
    remediation: 'Check the firewall for a rule dropping UDP 5060 (often an ALG in "block" mode or an ISP filter); allow it, or move the phones to TLS on 5061.',
  },
  sip_tcp_blocked: {
    code: 'sip_tcp_blocked',
    source: 'sip-alg',
    defaultSeverity: 'warning',
    title: 'SIP over TCP blocked',
    impact: 'Phones or trunks set to TCP will not register.',
    remediation: 'Allow outbound TCP 5060, or use UDP or TLS.',
  },
  sip_tls_blocked: {
    code: 'sip_tls_blocked',
    source: 'sip-alg',
    defaultSeverity: 'warning',
    title: 'SIP over TLS blocked',
    impact: 'TLS is the way around a SIP ALG that cannot be switched off; with port 5061 blocked that way is closed.',
    remediation: 'Allow outbound TCP 5061 to keep that option open.',
  },
} as const satisfies Record<string, FindingDefinition>;

/**
 * sipAlgFindings grades one transport's sip-alg report. `answeredOver` lists the transports to the
 * same reflector that answered (clean or detected) in the same round: a blocked transport is a
 * finding only when another one answered, since when none did the reflector itself is unreachable
 * and blaming each port would send a technician after three problems that are one.
 */
export function sipAlgFindings(transport: SipTransport, report: SipAlgTransportReport, place: FindingPlace, answeredOver: readonly SipTransport[]): Finding[] {
  const where = { ...place, transport };
  const name = TRANSPORT_NAMES[transport];
  if (report.status === 'detected') {
    // A report read back from a point alone names the fields but not what they became: no evidence then.
    const evidence = report.rewrites
      .filter((rewrite) => rewrite.sent !== '' || rewrite.received !== '')
      .map((rewrite) => `${rewrite.direction} ${rewrite.field}: ${rewrite.sent} -> ${rewrite.received}`);
    if (transport === 'tls') {
      return [raise(SIP_ALG_FINDINGS.sip_tls_intercepted, where, {
        summary: 'SIP over TLS was changed on the way: something in the path terminates TLS (an SBC or a TLS-inspecting firewall)',
        evidence,
      })];
    }
    const fields = unique(report.rewrites.map((rewrite) => rewrite.field)).join(', ');
    const directions = unique(report.rewrites.map((rewrite) => rewrite.direction)).join(' and ');
    const what = fields ? ` (${directions}: ${fields})` : '';
    return [raise(SIP_ALG_FINDINGS[`sip_alg_${transport}`], where, { summary: `SIP ALG is rewriting SIP over ${name}${what}`, evidence })];
  }
  const others = answeredOver.filter((other) => other !== transport);
  if (report.status !== 'blocked' || others.length === 0) return [];
  const answered = others.map((other) => TRANSPORT_NAMES[other]).join(' and ');
  const evidence = report.reason ? [report.reason] : [];
  const summaries: Record<SipTransport, string> = {
    udp: `SIP over UDP blocked or dropped: the reflector answered over ${answered} but never over UDP`,
    tcp: `SIP over TCP blocked: the reflector answered over ${answered} but TCP connections failed`,
    tls: `SIP over TLS blocked: the reflector answered over ${answered} but not over TLS`,
  };
  return [raise(SIP_ALG_FINDINGS[`sip_${transport}_blocked`], where, { summary: summaries[transport], evidence })];
}

/** answeredTransports lists the transports whose report shows the reflector answered. */
export function answeredTransports(reports: Partial<Record<SipTransport, Pick<SipAlgTransportReport, 'status'>>>): SipTransport[] {
  return SIP_TRANSPORTS.filter((transport) => reports[transport]?.status === 'clean' || reports[transport]?.status === 'detected');
}

const transportSchema = z.enum(SIP_TRANSPORTS);

/** resultTransportOf is the SIP transport a sip-alg result ran over, from the result or its point; null when neither says. */
export function resultTransportOf(result: Pick<ProbeResultMessage, 'transport' | 'points'>): SipTransport | null {
  const parsed = transportSchema.safeParse(result.transport ?? result.points[0]?.tags.transport);
  return parsed.success ? parsed.data : null;
}

/**
 * sipAlgReportOf reads the report of one stored sip-alg result. The detail comes from an agent, so
 * it is parsed, never trusted; when it does not parse, the `sip_alg` point (checked at ingest) gives
 * the status and the rewritten field names without the rewrites themselves. Null when neither says.
 */
export function sipAlgReportOf(result: Pick<ProbeResultMessage, 'points' | 'detail' | 'error'>): SipAlgTransportReport | null {
  const detail = sipAlgTransportReportSchema.safeParse(result.detail);
  if (detail.success) return detail.data;
  const point = result.points.find((candidate) => candidate.measurement === 'sip_alg');
  const status = z.enum(['detected', 'clean', 'blocked', 'error']).safeParse(point?.tags.result);
  if (!point || !status.success) return null;
  const fields = typeof point.fields.rewritten_fields === 'string' ? point.fields.rewritten_fields.split(',').filter(Boolean) : [];
  const directions = (['outbound', 'inbound'] as const).filter((direction) => Number(point.fields[`rewrites_${direction}`]) > 0);
  return {
    status: status.data,
    rewrites: directions.flatMap((direction) => fields.map((field) => ({ direction, field, sent: '', received: '' }))),
    rttMs: typeof point.fields.rtt_ms === 'number' ? point.fields.rtt_ms : null,
    ...(result.error ? { reason: result.error } : {}),
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

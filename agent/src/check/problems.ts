/**
 * findProblems turns what the probes measured into the findings a technician acts on: what is wrong,
 * what it does to calls, and what to change. One catalogue of codes; the README lists them.
 */
import type { BindingLifetimeReport, CheckReport, NatReport, Problem, SipTransport } from '@algwatch/protocol/check-report';

type SipAlgReports = CheckReport['sipAlg'];

/** Where the SIP ALG switch lives on routers MSPs meet most; the README has the longer list. */
export const ALG_SETTING_LOCATIONS =
  'Netgear: Advanced > Setup > WAN Setup > "Disable SIP ALG"; TP-Link: Advanced > NAT Forwarding > ALG > SIP ALG; ' +
  'ASUS: WAN > NAT Passthrough > SIP Passthrough; FortiGate: set default-voip-alg-mode kernel-helper-based and delete the sip session-helper; ' +
  'SonicWall: VoIP > Settings > "Enable SIP Transformations"; MikroTik: IP > Firewall > Service Ports > sip; ' +
  'Ubiquiti EdgeOS: set system conntrack modules sip disable; DrayTek: NAT > ALG > SIP; Zyxel: Network > ALG > SIP ALG';

/** RFC 4787 REQ-5: a NAT's UDP mapping timer must not expire in less than 2 minutes. */
export const RFC4787_MIN_UDP_BINDING_SECONDS = 120;
/** The NAT keep-alive interval many desk phones ship with; bindings shorter than this drop calls. */
export const COMMON_PHONE_KEEPALIVE_SECONDS = 30;

const TRANSPORT_NAMES: Record<SipTransport, string> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };

export function findProblems(sipAlg: SipAlgReports, nat: NatReport | null, lifetime: BindingLifetimeReport | null): Problem[] {
  const problems: Problem[] = [];
  for (const transport of ['udp', 'tcp'] as const) {
    const report = sipAlg[transport];
    if (report.status !== 'detected') continue;
    const fields = [...new Set(report.rewrites.map((rewrite) => rewrite.field))].join(', ');
    const directions = [...new Set(report.rewrites.map((rewrite) => rewrite.direction))].join(' and ');
    problems.push({
      code: `sip_alg_${transport}`,
      severity: 'critical',
      summary: `SIP ALG is rewriting SIP over ${TRANSPORT_NAMES[transport]} (${directions}: ${fields})`,
      remediation:
        'Expect one-way or no audio, inbound calls that never ring and registrations that drop. ' +
        `Turn SIP ALG off on the router (${ALG_SETTING_LOCATIONS}); reboot it and run this check again. ` +
        'Where it cannot be turned off, move the phones to SIP over TLS on port 5061, which an ALG cannot read.',
    });
  }
  if (sipAlg.tls.status === 'detected') {
    problems.push({
      code: 'sip_tls_intercepted',
      severity: 'warning',
      summary: 'SIP over TLS was changed on the way: something in the path terminates TLS (an SBC or a TLS-inspecting firewall)',
      remediation: 'Find the device that terminates TLS on port 5061 (firewall SSL inspection, SIP proxy) and exempt SIP from it.',
    });
  }
  const answeredElsewhere = sipAlg.tls.status !== 'blocked' && sipAlg.tls.status !== 'error';
  if (sipAlg.udp.status === 'blocked' && answeredElsewhere) {
    problems.push({
      code: 'sip_udp_blocked',
      severity: 'critical',
      summary: 'SIP over UDP blocked or dropped: the reflector answered over TLS but never over UDP port 5060',
      remediation:
        'Phones using UDP will not register. Check the firewall for a rule dropping UDP 5060 (often an ALG in "block" mode or an ISP filter); ' +
        'allow it, or move the phones to TLS on 5061.',
    });
  }
  if (sipAlg.tcp.status === 'blocked' && answeredElsewhere) {
    problems.push({
      code: 'sip_tcp_blocked',
      severity: 'warning',
      summary: 'SIP over TCP port 5060 blocked: the reflector answered over TLS but TCP connections failed',
      remediation: 'Phones or trunks set to TCP will not register. Allow outbound TCP 5060, or use UDP or TLS.',
    });
  }
  if (sipAlg.tls.status === 'blocked' && sipAlg.udp.status !== 'blocked') {
    problems.push({
      code: 'sip_tls_blocked',
      severity: 'warning',
      summary: 'SIP over TLS port 5061 blocked: the reflector answered over UDP but not over TLS',
      remediation: 'TLS is the way around a SIP ALG that cannot be switched off; allow outbound TCP 5061 to keep that option open.',
    });
  }
  if (nat && (nat.mapping === 'address-dependent' || nat.mapping === 'address-and-port-dependent')) {
    problems.push({
      code: 'nat_symmetric',
      severity: 'warning',
      summary: `Symmetric NAT: the public port changes with each destination (mapping ${nat.mapping})`,
      remediation:
        'Media from the provider may not find its way back (one-way audio) unless the provider does NAT traversal (rport, symmetric RTP, an SBC). ' +
        'Switch the router to endpoint-independent mapping ("full cone"/"consistent NAT"/"static port" for the phones), or confirm the provider handles symmetric NAT.',
    });
  }
  if (lifetime && lifetime.udpSeconds !== null) {
    const seconds = lifetime.udpSeconds;
    const keepalive = Math.max(5, Math.floor(lifetime.lowerSeconds * 0.8));
    if (seconds <= COMMON_PHONE_KEEPALIVE_SECONDS) {
      problems.push({
        code: 'udp_binding_short',
        severity: 'critical',
        summary: `UDP NAT bindings expire after about ${seconds} s idle, at or below the 30 s keep-alive many phones use`,
        remediation: `Inbound calls will stop ringing between keep-alives. Raise the router's UDP session timeout to at least ${RFC4787_MIN_UDP_BINDING_SECONDS} s, or set the phones' NAT keep-alive to ${keepalive} s or less.`,
      });
    } else if (seconds < RFC4787_MIN_UDP_BINDING_SECONDS) {
      problems.push({
        code: 'udp_binding_short',
        severity: 'warning',
        summary: `UDP NAT bindings expire after about ${seconds} s idle, under the 2 minutes RFC 4787 asks of NATs`,
        remediation: `Set the phones' NAT keep-alive (or registration refresh) to ${keepalive} s or less, or raise the router's UDP session timeout to at least ${RFC4787_MIN_UDP_BINDING_SECONDS} s.`,
      });
    }
  }
  return problems;
}

/**
 * remediationFor gives the site page "what to do" for the problems a fleet row shows. The findings
 * catalogue (contract 1, FINDINGS[code].remediation) is the one source of this text once it lands;
 * until then these short texts stand in, and are replaced by it.
 */
import type { FleetRow } from '@algwatch/protocol/dashboard';
import { SIP_TRANSPORTS } from '@algwatch/protocol/check-report';

export function remediationFor(row: FleetRow): Array<{ title: string; text: string }> {
  const advice: Array<{ title: string; text: string }> = [];
  if (SIP_TRANSPORTS.some((t) => t !== 'tls' && row.sipAlg[t] === 'detected')) {
    advice.push({
      title: 'Turn SIP ALG off on the router',
      text: 'Expect one-way or no audio and phones that drop registration. Netgear: Advanced > Setup > WAN Setup > Disable SIP ALG; TP-Link: Advanced > NAT Forwarding > ALG; FortiGate: set default-voip-alg-mode kernel-helper-based and delete the sip session-helper; Linux/OpenWrt: remove the sip conntrack helper.',
    });
  }
  if (row.bindingLifetimeS !== null && row.bindingLifetimeS < 120) {
    advice.push({
      title: 'Raise the router’s UDP timeout or shorten the phones’ keep-alive',
      text: `Idle UDP bindings expire after ${row.bindingLifetimeS} s: inbound calls stop ringing after that long without traffic. Set the UDP session timeout to at least 120 s (RFC 4787 REQ-5) or make the phones send keep-alives more often.`,
    });
  }
  return advice;
}

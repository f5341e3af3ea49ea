/**
 * Test fixtures: the notifications of one ALG episode at one site (firing, then resolved), with the
 * rewritten Via line as evidence, as the alert engine would hand them to a channel. Used by tests only.
 */
import type { AlertNotification, NotifiedAlert } from '../notification.js';

export const REWRITTEN_VIA = 'outbound Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK-1 -> SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-1';
export const REWRITTEN_CONTACT = 'outbound Contact: <sip:probe@198.51.100.2:5060> -> <sip:probe@203.0.113.1:5060>';

const algAlert: NotifiedAlert = {
  fingerprint: 'f'.repeat(64),
  rule: 'sip_alg_udp',
  severity: 'critical',
  state: 'firing',
  tenant: 'acme-dental',
  site: 'branch-12',
  agent: 'gw-branch-12',
  transport: 'udp',
  title: 'SIP ALG rewriting SIP over UDP',
  summary: 'SIP ALG is rewriting SIP over UDP (outbound: Via, Contact)',
  impact: 'Calls drop after 30 s or have one-way audio; phones lose their registration.',
  remediation: 'Turn off the SIP ALG in the router (e.g. "SIP ALG" or "SIP Helper" under NAT settings) and reboot it.',
  evidence: [REWRITTEN_VIA, REWRITTEN_CONTACT],
  startsAt: '2026-12-01T22:10:05.000Z',
};

/** firingNotification: the ALG alert firing at acme-dental/branch-12. */
export function firingNotification(overrides: Partial<AlertNotification> = {}): AlertNotification {
  return {
    groupKey: 'acme-dental/branch-12',
    threadId: 'acme-dental/branch-12/2026-12-01T22:10:35.000Z',
    status: 'firing',
    tenant: 'acme-dental',
    site: 'branch-12',
    alerts: [{ ...algAlert }],
    siteUrl: 'https://algwatch.msp.example/sites/acme-dental/branch-12',
    ...overrides,
  };
}

/** resolvedNotification: the same episode resolved. */
export function resolvedNotification(overrides: Partial<AlertNotification> = {}): AlertNotification {
  return firingNotification({
    status: 'resolved',
    alerts: [{ ...algAlert, state: 'resolved', endsAt: '2026-12-01T23:02:00.000Z' }],
    ...overrides,
  });
}

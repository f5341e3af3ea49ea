/**
 * Stored probe results as an agent sends them (checked against probeResultSchema, so a helper that
 * drifts from the wire contract fails loudly), for the tests of the findings catalogue and of every
 * consumer of it. `siteWithEveryProblem` is one site's latest round showing the problems MSPs meet.
 */
import { randomUUID } from 'node:crypto';
import { probeResultSchema, type ProbeName, type ProbeResultMessage } from '@algwatch/protocol/events';
import type { SipAlgTransportReport, SipTransport } from '@algwatch/protocol/check-report';
import type { MetricPoint, NatBehaviour } from '@algwatch/protocol/measurements';

export const REFLECTOR = 'reflector.example.net';
const STARTED_AT = Date.parse('2026-12-01T22:00:00Z');

function stored(probe: ProbeName, fields: Partial<ProbeResultMessage> & Pick<ProbeResultMessage, 'points'>): ProbeResultMessage {
  return probeResultSchema.parse({
    id: randomUUID(),
    probe,
    target: REFLECTOR,
    startedAt: STARTED_AT,
    durationMs: 120,
    success: true,
    detail: null,
    ...fields,
  });
}

/** The rewrites the kernel's nf_nat_sip makes to algwatch's REGISTER on the testbed. */
export const ALG_REWRITES: SipAlgTransportReport['rewrites'] = [
  { direction: 'outbound', field: 'Via', sent: 'SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK1;rport', received: 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK1;rport' },
  { direction: 'outbound', field: 'Contact', sent: '<sip:probe@198.51.100.2:5060>', received: '<sip:probe@203.0.113.1:5060>' },
  { direction: 'outbound', field: 'SDP c=', sent: 'IN IP4 198.51.100.2', received: 'IN IP4 203.0.113.1' },
  { direction: 'inbound', field: 'Contact', sent: '<sip:echo@203.0.113.1:5060>', received: '<sip:echo@198.51.100.2:5060>' },
];

/** sipAlgResult is one transport's sip-alg result with its report as detail and its `sip_alg` point. */
export function sipAlgResult(transport: SipTransport, report: SipAlgTransportReport): ProbeResultMessage {
  const fields: MetricPoint['fields'] = {
    alg_detected: report.status === 'detected',
    rewrites_outbound: report.rewrites.filter((rewrite) => rewrite.direction === 'outbound').length,
    rewrites_inbound: report.rewrites.filter((rewrite) => rewrite.direction === 'inbound').length,
    rewritten_fields: [...new Set(report.rewrites.map((rewrite) => rewrite.field))].join(','),
  };
  if (report.rttMs !== null) fields.rtt_ms = report.rttMs;
  return stored('sip-alg', {
    transport,
    success: report.status === 'clean' || report.status === 'detected',
    ...(report.reason ? { error: report.reason } : {}),
    detail: report,
    points: [{ measurement: 'sip_alg', tags: { target: REFLECTOR, transport, result: report.status }, fields }],
  });
}

export const cleanSip: SipAlgTransportReport = { status: 'clean', rewrites: [], rttMs: 4.2 };
export const algSip: SipAlgTransportReport = { status: 'detected', rewrites: ALG_REWRITES, rttMs: 4.8 };
export const blockedSip = (transport: SipTransport): SipAlgTransportReport => ({
  status: 'blocked',
  rewrites: [],
  rttMs: null,
  reason: `no answer over ${transport.toUpperCase()} from 203.0.113.10:5061 to OPTIONS in 4000 ms`,
});

/** bindingLifetimeResult: bindings alive at seconds - 1, gone at seconds; null seconds = outlived maxSeconds. */
export function bindingLifetimeResult(seconds: number | null, target = REFLECTOR, maxSeconds = 300): ProbeResultMessage {
  const lower = seconds === null ? maxSeconds : seconds - 1;
  const upper = seconds ?? maxSeconds;
  const fields: MetricPoint['fields'] = { lower_s: lower, upper_s: upper, outlived_max: seconds === null, elapsed_ms: upper * 1000 + 400 };
  if (seconds !== null) fields.udp_lifetime_s = seconds;
  return stored('binding-lifetime', {
    target,
    durationMs: upper * 1000 + 400,
    detail: { udpSeconds: seconds, lowerSeconds: lower, upperSeconds: upper, elapsedMs: upper * 1000 + 400, stepSeconds: 1, unacknowledged: 0 },
    points: [{ measurement: 'binding_lifetime', tags: { target, result: 'ok' }, fields }],
  });
}

export function natBehaviorResult(mapping: NatBehaviour, filtering: NatBehaviour = 'address-and-port-dependent'): ProbeResultMessage {
  const codes = ['unknown', 'endpoint-independent', 'address-dependent', 'address-and-port-dependent'];
  return stored('nat-behavior', {
    detail: { mapping, filtering, natPresent: true, publicAddress: '203.0.113.1', publicPort: 40000 },
    points: [{
      measurement: 'nat_behavior',
      tags: { target: REFLECTOR, result: 'ok', mapping, filtering },
      fields: { nat_present: true, mapping_code: codes.indexOf(mapping), filtering_code: codes.indexOf(filtering) },
    }],
  });
}

export function stunMappingResult(answered: boolean): ProbeResultMessage {
  if (!answered) return stored('stun-mapping', { success: false, error: 'no answer from 203.0.113.10:3478', points: [] });
  return stored('stun-mapping', {
    detail: { natPresent: true, publicAddress: '203.0.113.1', publicPort: 40000, portPreserved: true, localAddress: '198.51.100.2', localPort: 40000, rttMs: 3.1 },
    points: [{
      measurement: 'stun_mapping',
      tags: { target: REFLECTOR, result: 'ok' },
      fields: { nat_present: true, public_address: '203.0.113.1', public_port: 40000, port_preserved: true, rtt_ms: 3.1 },
    }],
  });
}

export function sipOptionsResult(target: string, transport: SipTransport, answer: { statusCode: number; rttMs: number } | null): ProbeResultMessage {
  const result = answer === null ? 'timeout' : answer.statusCode < 300 ? 'ok' : 'error_response';
  const fields: MetricPoint['fields'] = answer === null ? { loss_pct: 100 } : { rtt_ms: answer.rttMs, status_code: answer.statusCode, loss_pct: 0 };
  return stored('sip-options', {
    target,
    transport,
    success: answer !== null && answer.statusCode < 300,
    detail: { result },
    points: [{ measurement: 'sip_options', tags: { target, transport, result }, fields }],
  });
}

/**
 * siteWithEveryProblem is one site's newest results: the kernel ALG rewriting SIP over UDP (TCP
 * clean), SIP over TLS blocked, a symmetric NAT, and two binding-lifetime targets, one at 20 s and
 * one at 90 s (in real life two agents of the site, or two runs kept per target).
 */
export function siteWithEveryProblem(): ProbeResultMessage[] {
  return [
    sipAlgResult('udp', algSip),
    sipAlgResult('tcp', cleanSip),
    sipAlgResult('tls', blockedSip('tls')),
    stunMappingResult(true),
    natBehaviorResult('address-and-port-dependent'),
    bindingLifetimeResult(20, 'reflector-a'),
    bindingLifetimeResult(90, 'reflector-b'),
  ];
}

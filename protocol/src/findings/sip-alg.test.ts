import { describe, expect, it } from 'vitest';
import { algSip, blockedSip, cleanSip, sipAlgResult } from '../../../test/helpers/probe-results.js';
import { ALG_SETTING_LOCATIONS, answeredTransports, resultTransportOf, sipAlgFindings, sipAlgReportOf } from './sip-alg.js';
import { MAX_EVIDENCE_CHARS, MAX_EVIDENCE_LINES } from './finding.js';

describe('sipAlgFindings', () => {
  it('reports an ALG on UDP as critical, naming directions and fields, with each rewrite as evidence', () => {
    const [finding, ...rest] = sipAlgFindings('udp', algSip, { target: 'reflector' }, ['udp', 'tcp']);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'sip_alg_udp', severity: 'critical', target: 'reflector', transport: 'udp' });
    expect(finding!.summary).toBe('SIP ALG is rewriting SIP over UDP (outbound and inbound: Via, Contact, SDP c=)');
    expect(finding!.evidence[0]).toBe('outbound Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK1;rport -> SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK1;rport');
    expect(finding!.evidence).toHaveLength(4);
    expect(finding!.remediation).toContain(ALG_SETTING_LOCATIONS);
  });

  it('calls a changed TLS exchange an interception, a warning', () => {
    expect(sipAlgFindings('tls', algSip, {}, ['tls']).map((f) => [f.code, f.severity])).toEqual([['sip_tls_intercepted', 'warning']]);
  });

  it('blames a blocked transport only when another one answered', () => {
    expect(sipAlgFindings('udp', blockedSip('udp'), {}, ['tls']).map((f) => [f.code, f.severity])).toEqual([['sip_udp_blocked', 'critical']]);
    expect(sipAlgFindings('tcp', blockedSip('tcp'), {}, ['udp']).map((f) => [f.code, f.severity])).toEqual([['sip_tcp_blocked', 'warning']]);
    expect(sipAlgFindings('tls', blockedSip('tls'), {}, ['udp', 'tcp'])[0]!.summary).toBe('SIP over TLS blocked: the reflector answered over UDP and TCP but not over TLS');
    expect(sipAlgFindings('udp', blockedSip('udp'), {}, [])).toEqual([]);
    expect(sipAlgFindings('udp', blockedSip('udp'), {}, ['udp'])).toEqual([]);
  });

  it('finds nothing on a clean transport', () => {
    expect(sipAlgFindings('udp', cleanSip, {}, ['udp', 'tcp', 'tls'])).toEqual([]);
  });

  it('bounds the evidence to 20 lines of 300 characters however much an agent sent', () => {
    const flood = { ...algSip, rewrites: Array.from({ length: 500 }, (_, i) => ({ direction: 'outbound' as const, field: `X-${i}`, sent: 'a'.repeat(5000), received: 'b' })) };
    const [finding] = sipAlgFindings('udp', flood, {}, []);
    expect(finding!.evidence).toHaveLength(MAX_EVIDENCE_LINES);
    expect(Math.max(...finding!.evidence.map((line) => line.length))).toBe(MAX_EVIDENCE_CHARS);
    expect(finding!.summary.length).toBeLessThanOrEqual(300);
  });
});

describe('reading a stored sip-alg result', () => {
  it('reads the report from the detail and the transport from the result', () => {
    const result = sipAlgResult('udp', algSip);
    expect(sipAlgReportOf(result)).toEqual(algSip);
    expect(resultTransportOf(result)).toBe('udp');
  });

  it('falls back to the point when the detail is not a report, naming fields without inventing rewrites', () => {
    const nested: Record<string, unknown> = {};
    let cursor = nested;
    for (let i = 0; i < 10_000; i++) cursor = (cursor.deeper = {}) as Record<string, unknown>;
    const result = { ...sipAlgResult('udp', algSip), detail: nested };
    const report = sipAlgReportOf(result)!;
    expect(report.status).toBe('detected');
    const [finding] = sipAlgFindings('udp', report, {}, []);
    expect(finding!.summary).toBe('SIP ALG is rewriting SIP over UDP (outbound and inbound: Via, Contact, SDP c=)');
    expect(finding!.evidence).toEqual([]);
  });

  it('lists the transports that got an answer', () => {
    expect(answeredTransports({ udp: algSip, tcp: cleanSip, tls: blockedSip('tls') })).toEqual(['udp', 'tcp']);
  });
});

import { describe, expect, it } from 'vitest';
import { sipOptionsResult } from '../../../test/helpers/probe-results.js';
import { THRESHOLDS } from './finding.js';
import { findingsOfResult } from './index.js';
import { sipOptionsFindings, sipStatusSeverity } from './sip-options.js';

const at = { target: 'pbx', transport: 'udp' as const };

describe('sip-options findings', () => {
  it('grades status codes: 2xx fine, 503 maintenance (info), other errors a warning', () => {
    expect([200, 202, 302, 403, 486, 500, 503, 603].map(sipStatusSeverity)).toEqual([null, null, 'warning', 'warning', 'warning', 'warning', 'info', 'warning']);
  });

  it('reports a 503 as maintenance and a 403 as an error, naming the peer and code', () => {
    expect(sipOptionsFindings(sipOptionsResult('pbx', 'udp', { statusCode: 503, rttMs: 12 }), at)).toMatchObject([
      { code: 'target_maintenance', severity: 'info', target: 'pbx', transport: 'udp', summary: 'pbx answers keep-alive OPTIONS with 503 (maintenance)' },
    ]);
    expect(sipOptionsFindings(sipOptionsResult('pbx', 'udp', { statusCode: 403, rttMs: 12 }), at).map((f) => f.code)).toEqual(['target_error']);
  });

  it('calls a peer slow only past the RTT threshold', () => {
    const slow = THRESHOLDS.keepaliveRttSlowMs + 1;
    expect(sipOptionsFindings(sipOptionsResult('pbx', 'udp', { statusCode: 200, rttMs: slow }), at).map((f) => [f.code, f.severity])).toEqual([['target_slow', 'warning']]);
    expect(sipOptionsFindings(sipOptionsResult('pbx', 'udp', { statusCode: 200, rttMs: THRESHOLDS.keepaliveRttSlowMs }), at)).toEqual([]);
  });

  it('leaves an unanswered run to the alert rules that count consecutive ones', () => {
    expect(sipOptionsFindings(sipOptionsResult('pbx', 'udp', null), at)).toEqual([]);
  });

  it('raises sip_alg_on_path from a stored keep-alive whose received= was the agent\'s own address, with the ALG remediation', () => {
    const result = sipOptionsResult('pbx', 'udp', { statusCode: 200, rttMs: 12 });
    Object.assign(result.points[0]!.fields, {
      public_address: '198.51.100.2', alg_on_path: true, stun_address: '203.0.113.1', local_address: '198.51.100.2',
      alg_fields: 'Via received=198.51.100.2 (STUN: 203.0.113.1)',
    });
    const [finding, ...rest] = findingsOfResult(result);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'sip_alg_on_path', severity: 'critical', target: 'pbx', transport: 'udp' });
    expect(finding?.summary).toBe("SIP ALG on the path to pbx (UDP): Via received=198.51.100.2 (STUN: 203.0.113.1) came back as the agent's own address 198.51.100.2, STUN sees 203.0.113.1");
    expect(finding?.remediation).toMatch(/^Turn SIP ALG off on the router/);
    expect(finding?.evidence.join('\n')).toContain('STUN mapping of the site: 203.0.113.1');
  });

  it('raises nothing about the path when the answer matched STUN or was not judged', () => {
    const clean = sipOptionsResult('pbx', 'udp', { statusCode: 200, rttMs: 12 });
    Object.assign(clean.points[0]!.fields, { public_address: '203.0.113.1', alg_on_path: false, stun_address: '203.0.113.1' });
    expect(findingsOfResult(clean)).toEqual([]);
    expect(findingsOfResult(sipOptionsResult('pbx', 'udp', { statusCode: 200, rttMs: 12 }))).toEqual([]);
  });
});

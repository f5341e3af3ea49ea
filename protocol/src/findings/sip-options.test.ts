import { describe, expect, it } from 'vitest';
import { sipOptionsResult } from '../../../test/helpers/probe-results.js';
import { THRESHOLDS } from './finding.js';
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
});

import { describe, expect, it } from 'vitest';
import { THRESHOLDS } from './finding.js';
import { crlfKeepaliveFindings } from './crlf-keepalive.js';

const pong = (rttMs: number) => ({ points: [{ measurement: 'crlf_keepalive' as const, tags: { target: 'pbx', transport: 'tls', result: 'ok' }, fields: { pong: true, rtt_ms: rttMs } }] });

describe('crlf-keepalive findings', () => {
  it('reports a late pong as target_slow', () => {
    const [finding] = crlfKeepaliveFindings(pong(THRESHOLDS.keepaliveRttSlowMs + 50), { target: 'pbx', transport: 'tls' });
    expect(finding).toMatchObject({ code: 'target_slow', severity: 'warning', transport: 'tls' });
    expect(finding!.summary).toBe('pbx answers the CRLF keep-alive in 350 ms, over 300 ms');
  });

  it('finds nothing in a prompt pong or a missing one (target_down counts runs)', () => {
    expect(crlfKeepaliveFindings(pong(8), {})).toEqual([]);
    expect(crlfKeepaliveFindings({ points: [{ measurement: 'crlf_keepalive', tags: { result: 'timeout' }, fields: { pong: false } }] }, {})).toEqual([]);
  });
});

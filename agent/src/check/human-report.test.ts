import { describe, expect, it } from 'vitest';
import type { CheckReport, RtpReport } from '@algwatch/protocol/check-report';
import { findProblems } from './problems.js';
import { renderHumanReport } from './human-report.js';

const direction = { sent: 250, received: 250, lossPct: 0, jitterMs: 0.4, maxGapMs: 41.2, reordered: 0 };
const sip = { status: 'clean' as const, rewrites: [], rttMs: 1 };
const nat = { present: true, publicAddress: '203.0.113.1', publicPort: 4000, portPreserved: true, mapping: 'endpoint-independent' as const, filtering: 'address-and-port-dependent' as const };

function reportWith(rtp: RtpReport): CheckReport {
  const sipAlg = { udp: sip, tcp: sip, tls: sip };
  return { version: 1, server: 'reflector', startedAt: '2026-12-01T00:00:00Z', durationMs: 6000, sipAlg, nat, bindingLifetime: null, rtp, problems: findProblems(sipAlg, nat, null, { rtp }) };
}

describe('the human report of check --rtp', () => {
  it('shows the verdict, the SDP as sent and received beside where media came from, each direction, and the pinhole', () => {
    const text = renderHumanReport(reportWith({
      verdict: 'one-way-outbound-only', inboundPath: 'symmetric-only', outbound: direction, inbound: direction, rFactor: 92.4, mos: 4.4,
      sdpSent: '198.51.100.2:20000', sdpReceived: '198.51.100.2:20000', mediaSource: '203.0.113.1:20000', pinholeOpenToOthers: false,
    }));
    expect(text).toContain('RTP path (test call)\n  [warn] one-way audio: only this site is heard by the far end — MOS 4.40 (R 92.4)');
    expect(text).toContain('SDP media address: sent 198.51.100.2:20000, reflector received 198.51.100.2:20000; media came from 203.0.113.1:20000');
    expect(text).toContain('outbound sent 250, received 250, loss 0 %, jitter 0.4 ms, longest gap 41.2 ms');
    expect(text).toContain('[ ok ] RTP pinhole admits only the far end');
    expect(text).toContain('WARNING: One-way audio unless the far end latches');
  });

  it('says the call was not tested when the INVITE got no answer, and raises nothing for it', () => {
    const report = reportWith({
      verdict: 'none', inboundPath: 'none', outbound: { ...direction, sent: 0, received: 0 }, inbound: { ...direction, sent: 0, received: 0 },
      rFactor: null, mos: null, sdpSent: '198.51.100.2:20000', sdpReceived: null, pinholeOpenToOthers: null, reason: 'the INVITE to reflector:5060 got no answer',
    });
    expect(renderHumanReport(report)).toContain('[ -- ] not tested: the INVITE to reflector:5060 got no answer');
    expect(report.problems).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { eModelScore, G711_WITH_PLC } from '@algwatch/protocol/e-model';
import type { RtpSessionReport } from '@algwatch/protocol/rtp-signalling';
import type { MediaOutcome } from './media.js';
import { judgeRtpPath } from './verdict.js';

const received = (count: number, jitterMs = 1) => ({ summary: { received: count, jitterMs, maxGapMs: 40, reordered: 0, duplicates: 0 }, from: '203.0.113.10:40000' });
const reflector = (over: Partial<RtpSessionReport> = {}): RtpSessionReport => ({
  v: 1, received: 250, jitterMs: 1, maxGapMs: 30, reordered: 0, mediaSource: '203.0.113.1:20000',
  sdp: { sent: 125, status: 'sent', to: '203.0.113.1:30000' }, symmetric: { sent: 125, status: 'sent', to: '203.0.113.1:20000' },
  pinhole: { altAddress: 3, otherPort: 3 }, ...over,
});
const judge = (media: Partial<MediaOutcome>, report: RtpSessionReport | null = reflector()) =>
  judgeRtpPath({ sdpSent: '198.51.100.2:20000', sdpReceived: '203.0.113.1:30000', media: { sent: 250, inbound: {}, rttSamplesMs: [40, 42, 44], ...media }, reflector: report, codec: G711_WITH_PLC });

describe('judgeRtpPath', () => {
  it('calls it two-way when media sent to the SDP address arrives, and scores it with RTT/2 plus the jitter buffer', () => {
    const report = judge({ inbound: { sdp: received(125), symmetric: received(125) } });
    expect(report).toMatchObject({ verdict: 'two-way', inboundPath: 'sdp', rttMs: 42, pinholeOpenToOthers: false });
    expect(report.inbound).toMatchObject({ sent: 125, received: 125, lossPct: 0 });
    // one-way delay: RTT 42 / 2 + a jitter buffer of max(20 ms, 2 × 1 ms jitter) = 41 ms, no loss
    expect({ rFactor: report.rFactor, mos: report.mos }).toEqual(eModelScore({ oneWayDelayMs: 41, lossPct: 0 }));
    expect(report.mos).toBe(4.38);
  });

  it('calls it one-way outbound when only symmetric RTP came back, and gives the reason', () => {
    const report = judge({ inbound: { symmetric: received(120) } });
    expect(report).toMatchObject({ verdict: 'one-way-outbound-only', inboundPath: 'symmetric-only' });
    expect(report.inbound).toMatchObject({ sent: 125, received: 120, lossPct: 4 });
    expect(report.reason).toBe('125 packets sent to the SDP address 203.0.113.1:30000 never arrived');
    expect(report.mos).not.toBeNull();
  });

  it('calls it none when the reflector heard nothing, and has no score', () => {
    const report = judge({}, reflector({ received: 0, mediaSource: null, sdp: { sent: 0, status: 'not-sent-unproven', to: null }, symmetric: { sent: 0, status: 'not-sent-unproven', to: null }, pinhole: { altAddress: 0, otherPort: 0 } }));
    expect(report).toMatchObject({ verdict: 'none', inboundPath: 'none', rFactor: null, mos: null, pinholeOpenToOthers: null });
    expect(report.outbound.lossPct).toBe(100);
  });

  it('reports the pinhole open when a packet from the other address or port arrived', () => {
    expect(judge({ inbound: { 'sdp-symmetric': received(240), 'pinhole-other-port': received(3) } })).toMatchObject({ pinholeOpenToOthers: true, pinholeOpenFrom: ['other-port'] });
  });

  it('says so when the BYE got no answer', () => {
    expect(judge({ inbound: { sdp: received(100) } }, null).reason).toContain('BYE got no answer');
  });
});

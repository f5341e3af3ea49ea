import { describe, expect, it } from 'vitest';
import type { RtpReport } from '../check-report.js';
import { findingsOfResult } from './index.js';
import { rtpMosSeverity, rtpPathFindings } from './rtp-path.js';
import { THRESHOLDS } from './finding.js';

const clean = { sent: 250, received: 250, lossPct: 0, jitterMs: 0.5, maxGapMs: 30, reordered: 0 };
const twoWay: RtpReport = {
  verdict: 'two-way', inboundPath: 'sdp', outbound: clean, inbound: clean, rFactor: 92.4, mos: 4.4,
  sdpSent: '198.51.100.2:20000', sdpReceived: '198.51.100.2:20000', mediaSource: '198.51.100.2:20000', pinholeOpenToOthers: false,
};

describe('rtpMosSeverity', () => {
  it('is fine from 3.6 (G.107: users satisfied), a warning below, critical below 3.1', () => {
    expect([THRESHOLDS.rtpMosPoor, THRESHOLDS.rtpMosCritical]).toEqual([3.6, 3.1]);
    expect([4.4, 3.6, 3.59, 3.1, 3.09, 1].map(rtpMosSeverity)).toEqual([null, null, 'warning', 'warning', 'critical', 'critical']);
  });
});

describe('rtpPathFindings', () => {
  it('finds nothing in a clean two-way call', () => {
    expect(rtpPathFindings(twoWay, {})).toEqual([]);
  });

  it('names a private SDP address as the cause of one-way audio, a warning when symmetric RTP still gets back', () => {
    const [finding] = rtpPathFindings({ ...twoWay, verdict: 'one-way-outbound-only', inboundPath: 'symmetric-only', mediaSource: '203.0.113.1:20000' }, { target: 'reflector' });
    expect(finding).toMatchObject({ code: 'rtp_one_way_audio', severity: 'warning', target: 'reflector' });
    expect(finding!.summary).toContain('unless the far end latches');
    expect(finding!.summary).toContain('the SDP carries 198.51.100.2 but media comes from 203.0.113.1');
    expect(finding!.evidence[0]).toBe('SDP offer media 198.51.100.2:20000 as sent, 198.51.100.2:20000 as the reflector received it');
  });

  it('is critical when nothing comes back on any path, and says which way works', () => {
    const [finding] = rtpPathFindings({ ...twoWay, verdict: 'one-way-outbound-only', inboundPath: 'none', mos: null, rFactor: null }, {});
    expect(finding).toMatchObject({ code: 'rtp_one_way_audio', severity: 'critical' });
    expect(finding!.summary).toContain("only this site's audio reaches the far end");
  });

  it('raises no audio, an open pinhole, and a poor MOS', () => {
    expect(rtpPathFindings({ ...twoWay, verdict: 'none', inboundPath: 'none', mos: null, rFactor: null }, {}).map((f) => f.code)).toEqual(['rtp_no_audio']);
    expect(rtpPathFindings({ ...twoWay, pinholeOpenToOthers: true }, {}).map((f) => f.code)).toEqual(['rtp_pinhole_open']);
    const [pinhole] = rtpPathFindings({ ...twoWay, pinholeOpenToOthers: true, pinholeOpenFrom: ['other-port'] }, {});
    expect(pinhole!.summary).toBe("RTP from another port of the far end's address got through to the agent: the media pinhole admits senders other than the far end");
    const poor = rtpPathFindings({ ...twoWay, mos: 2.6, rFactor: 51.1, outbound: { ...clean, lossPct: 20 } }, {});
    expect(poor.map((f) => `${f.code} ${f.severity}`)).toEqual(['rtp_poor_mos critical']);
    expect(poor[0]!.summary).toContain('loss 20 % out');
  });

  it('is what findingsOfResult reads from a stored result: verdicts from its point, the cause from its detail', () => {
    const point = {
      measurement: 'rtp_path' as const,
      tags: { target: 'reflector', transport: 'udp', result: 'one-way-outbound-only', inbound_path: 'symmetric-only' },
      fields: { out_sent: 250, out_received: 250, out_loss_pct: 0, in_sent: 250, in_received: 250, in_loss_pct: 0, mos: 4.4, r_factor: 92.4, pinhole_open: true },
    };
    const result = {
      id: '00000000-0000-4000-8000-000000000000', probe: 'rtp-path' as const, target: 'reflector', startedAt: 1_764_000_000_000,
      durationMs: 5_500, success: true, points: [point], detail: { ...twoWay, mediaSource: '203.0.113.1:20000' },
    };
    const found = findingsOfResult(result);
    expect(found.map((f) => `${f.code} ${f.severity}`)).toEqual(['rtp_one_way_audio warning', 'rtp_pinhole_open warning']);
    expect(found[0]!.summary).toContain('the SDP carries 198.51.100.2 but media comes from 203.0.113.1');
    // Without the detail (the status board judging a summary again) the verdicts stand, without the cause.
    const again = findingsOfResult({ ...result, detail: null });
    expect(again.map((f) => f.code)).toEqual(['rtp_one_way_audio', 'rtp_pinhole_open']);
    expect(findingsOfResult({ ...result, detail: { verdict: 'lots' } }).map((f) => f.code)).toEqual(['rtp_one_way_audio', 'rtp_pinhole_open']);
    expect(findingsOfResult({ ...result, points: [] })).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { metricPointSchema } from '@algwatch/protocol/measurements';
import { probeResultSchema } from '@algwatch/protocol/events';
import { readProbeResult } from '@algwatch/protocol/result-check';
import { findingsOfResult } from '@algwatch/protocol/findings/index';
import { toResultMessage } from '../daemon/result-message.js';
import { memoryLogger } from '../daemon/log.js';
import { rtpReportSchema } from '@algwatch/protocol/check-report';
import { useRtpReflector } from '../../../test/helpers/rtp-reflector.js';
import { runProbe } from './runner.js';
import { rtpPathProbe } from './rtp-path.js';

describe('rtp-path against the real reflector on loopback', () => {
  const reflector = useRtpReflector();

  it('measures a two-way call: every packet both ways, the SDP path, a near-perfect MOS, and an open pinhole (loopback filters nothing)', async () => {
    const run = await runProbe(rtpPathProbe, { host: '127.0.0.1', port: reflector().sip.ports.udp }, { durationMs: 1_000 });
    expect(run.error).toBeUndefined();
    expect(run.success).toBe(true);
    const report = rtpReportSchema.parse(run.detail);
    expect(report.verdict).toBe('two-way');
    expect(report.inboundPath).toBe('sdp');
    expect(report.outbound.sent).toBe(50);
    expect(report.outbound.received).toBe(50);
    // The reflector sends back only what it received: never more packets than the agent sent.
    expect(report.inbound.sent).toBeLessThanOrEqual(report.outbound.received);
    expect(report.inbound.received).toBeGreaterThan(40);
    expect(report.sdpReceived).toBe(report.sdpSent);
    expect(report.mediaSource).toBe(report.sdpSent);
    expect(report.mos).toBeGreaterThan(4.2);
    expect(report.pinholeOpenToOthers).toBe(true);
    expect(run.points).toHaveLength(1);
    expect(metricPointSchema.safeParse(run.points[0]).success).toBe(true);
    expect(run.points[0]!.tags).toMatchObject({ result: 'two-way', inbound_path: 'sdp', transport: 'udp' });
    // What the daemon ships is what ingest takes, on its fast path and by the schema, and the
    // catalogue reads the stored result back (loopback lets the pinhole packets in).
    const message = toResultMessage(run, memoryLogger())!;
    expect(probeResultSchema.safeParse(message).success).toBe(true);
    expect(readProbeResult(JSON.parse(JSON.stringify(message)))).not.toBeNull();
    expect(findingsOfResult(message).map((finding) => finding.code)).toEqual(['rtp_pinhole_open']);
  });

  it('sends smaller payloads when asked, and the reflector answers in kind', async () => {
    const run = await runProbe(rtpPathProbe, { host: '127.0.0.1', port: reflector().sip.ports.udp }, { durationMs: 1_000, payloadBytes: 40 });
    const report = rtpReportSchema.parse(run.detail);
    expect(report.verdict).toBe('two-way');
    expect(report.outbound.received).toBe(50);
  });

  it('sets the call up over SIP on TCP when asked (media stays UDP)', async () => {
    const run = await runProbe(rtpPathProbe, { host: '127.0.0.1', port: reflector().sip.ports.tcp }, { durationMs: 1_000, transport: 'tcp' });
    expect(run.success).toBe(true);
    expect(rtpReportSchema.parse(run.detail)).toMatchObject({ verdict: 'two-way', outbound: { received: 50 } });
    expect(run.points[0]!.tags.transport).toBe('tcp');
  });

  it('reports the call as not set up, with no point, when nothing answers the INVITE', async () => {
    const run = await runProbe(rtpPathProbe, { host: '127.0.0.1', port: 9 }, { durationMs: 1_000, requestTimeoutMs: 600 });
    expect(run.success).toBe(false);
    expect(run.points).toEqual([]);
    const report = rtpReportSchema.parse(run.detail);
    expect(report.sdpReceived).toBeNull();
    expect(report.reason).toMatch(/INVITE/);
  });
});

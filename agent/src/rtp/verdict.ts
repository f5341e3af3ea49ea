/**
 * judgeRtpPath turns what a test call measured (the agent's own receive figures and the
 * reflector's report from the BYE) into check's `rtp` report: per direction figures, which inbound
 * path worked, the verdict for a far end that sends where the SDP says, and the G.107 score.
 */
import type { RtpDirection, RtpInboundPath, RtpReport, RtpVerdict } from '@algwatch/protocol/check-report';
import { eModelScore, type CodecImpairment } from '@algwatch/protocol/e-model';
import { lossPercent } from '@algwatch/protocol/rtp-stats';
import type { RtpSessionReport } from '@algwatch/protocol/rtp-signalling';
import type { MediaOutcome } from './media.js';

/** One packet's worth of jitter buffer at least: a buffer of twice the jitter, never under a 20 ms frame. */
const MIN_JITTER_BUFFER_MS = 20;

export interface RtpMeasurements {
  sdpSent: string;
  sdpReceived: string | null;
  media: MediaOutcome;
  /** null when the BYE got no answer: then outbound is unknown and counted as not received. */
  reflector: RtpSessionReport | null;
  codec: CodecImpairment;
}

export function judgeRtpPath(measured: RtpMeasurements): RtpReport {
  const { media, reflector } = measured;
  const outbound: RtpDirection = {
    sent: media.sent,
    received: reflector?.received ?? 0,
    lossPct: lossPercent(media.sent, reflector?.received ?? 0),
    jitterMs: reflector?.jitterMs ?? 0,
    maxGapMs: reflector?.maxGapMs ?? 0,
    reordered: reflector?.reordered ?? 0,
  };
  const sdpIn = media.inbound['sdp-symmetric'] ?? media.inbound.sdp;
  const symmetricIn = media.inbound['sdp-symmetric'] ?? media.inbound.symmetric;
  const inboundPath: RtpInboundPath = sdpIn && sdpIn.summary.received > 0 ? 'sdp' : symmetricIn && symmetricIn.summary.received > 0 ? 'symmetric-only' : 'none';
  const best = inboundPath === 'sdp' ? sdpIn : inboundPath === 'symmetric-only' ? symmetricIn : undefined;
  const bestSent = inboundPath === 'sdp' ? reflector?.sdp.sent : inboundPath === 'symmetric-only' ? reflector?.symmetric.sent : Math.max(reflector?.sdp.sent ?? 0, reflector?.symmetric.sent ?? 0);
  const inboundReceived = best?.summary.received ?? 0;
  const inboundSent = Math.max(bestSent ?? 0, inboundReceived);
  const inbound: RtpDirection = {
    sent: inboundSent,
    received: inboundReceived,
    lossPct: lossPercent(inboundSent, inboundReceived),
    jitterMs: best?.summary.jitterMs ?? 0,
    maxGapMs: best?.summary.maxGapMs ?? 0,
    reordered: best?.summary.reordered ?? 0,
  };
  const outboundFlows = outbound.received > 0;
  // The reflector answers only RTP it received, so media back without media out cannot be seen here.
  const verdict: RtpVerdict = !outboundFlows ? (inboundPath === 'none' ? 'none' : 'one-way-inbound-only') : inboundPath === 'sdp' ? 'two-way' : 'one-way-outbound-only';
  const rttMs = median(media.rttSamplesMs);
  let score: { rFactor: number; mos: number } | null = null;
  if (outboundFlows && inboundPath !== 'none') {
    const jitter = Math.max(outbound.jitterMs, inbound.jitterMs);
    const oneWayDelayMs = (rttMs ?? 0) / 2 + Math.max(MIN_JITTER_BUFFER_MS, 2 * jitter);
    score = eModelScore({ oneWayDelayMs, lossPct: Math.max(outbound.lossPct, inbound.lossPct), codec: measured.codec });
  }
  const pinholeTried = reflector !== null && reflector.pinhole.altAddress + reflector.pinhole.otherPort > 0;
  const pinholeOpenFrom: Array<'other-address' | 'other-port'> = [];
  if ((media.inbound['pinhole-alt-address']?.summary.received ?? 0) > 0) pinholeOpenFrom.push('other-address');
  if ((media.inbound['pinhole-other-port']?.summary.received ?? 0) > 0) pinholeOpenFrom.push('other-port');
  const pinholeArrived = pinholeOpenFrom.length > 0;
  const report: RtpReport = {
    verdict,
    inboundPath,
    outbound,
    inbound,
    rFactor: score?.rFactor ?? null,
    mos: score?.mos ?? null,
    sdpSent: measured.sdpSent,
    sdpReceived: measured.sdpReceived,
    mediaSource: reflector?.mediaSource ?? null,
    pinholeOpenToOthers: pinholeArrived ? true : pinholeTried ? false : null,
    ...(pinholeArrived ? { pinholeOpenFrom } : {}),
    rttMs: rttMs === null ? null : Math.round(rttMs * 100) / 100,
  };
  const reason = reasonOf(report, reflector);
  if (reason) report.reason = reason;
  return report;
}

function reasonOf(report: RtpReport, reflector: RtpSessionReport | null): string | null {
  if (!reflector) return 'the BYE got no answer: what reached the reflector is unknown';
  if (report.verdict === 'none') return 'no RTP from the agent reached the reflector';
  if (report.inboundPath === 'sdp') return null;
  if (reflector.sdp.status === 'not-sent-address-mismatch') return `the SDP names ${reflector.sdp.to ?? 'another address'}, not the address the call came from: media sent there would not arrive`;
  if (reflector.sdp.sent > 0) return `${reflector.sdp.sent} packets sent to the SDP address ${reflector.sdp.to ?? ''} never arrived`;
  return null;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

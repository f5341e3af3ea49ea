/**
 * rtp-path: will a call through this site's router have audio, both ways? A test call to algwatch's
 * reflector, made as a phone makes it: an INVITE with an SDP offer naming the agent's local RTP
 * address, the reflector's SDP answer, then G.711 RTP both ways for a few seconds (default 5 s at 50
 * packets/s, 160-byte payloads). The reflector sends back on two paths, to the SDP address and to the
 * source of the agent's RTP (symmetric RTP), plus a few packets from another address and port.
 *
 * Writes measurement `rtp_path` (tags target, transport, result = two-way | one-way-outbound-only |
 * one-way-inbound-only | none | error, inbound_path = sdp | symmetric-only | none; fields out_sent,
 * out_received, out_loss_pct, out_jitter_ms, out_max_gap_ms, out_reordered, in_sent, in_received,
 * in_loss_pct, in_jitter_ms, in_max_gap_ms, in_reordered, rtt_ms, r_factor, mos, pinhole_open,
 * sdp_rewritten). Example: `rtp_path,target=reflector.example.net,transport=udp,result=two-way,
 * inbound_path=sdp out_sent=250i,out_received=250i,out_loss_pct=0,out_jitter_ms=0.4,...,mos=4.4`
 * No point is written when the INVITE got no answer: nothing about media was measured.
 */
import { randomBytes } from 'node:crypto';
import * as z from '@algwatch/protocol/zod';
import { SIP_TRANSPORTS, type RtpReport, type SipTransport } from '@algwatch/protocol/check-report';
import { G711_WITH_PLC, G711_WITHOUT_PLC } from '@algwatch/protocol/e-model';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import { G711_20MS_PAYLOAD_BYTES, MAX_RTP_PAYLOAD_BYTES, MIN_RTP_PAYLOAD_BYTES } from '@algwatch/protocol/rtp';
import {
  decodeRtpSessionHeader, hostPort, RTP_PROBE_HEADER, RTP_SESSION_HEADER, rtpSessionAnswerSchema, rtpSessionReportSchema, sdpAudioMedia,
} from '@algwatch/protocol/rtp-signalling';
import { buildSipMessage, sipHeaderValue } from '@algwatch/protocol/sip';
import { openSipChannel, SipChannelError, type SipChannel } from '../sip/channel.js';
import { buildSipRequest, type SipOutgoingRequest } from '../sip/requests.js';
import { exchangeMedia, openRtpSocket } from '../rtp/media.js';
import { judgeRtpPath } from '../rtp/verdict.js';
import { defaultSipPort } from './sip-alg.js';
import { targetLabel, type Probe, type ProbeTarget } from './probe.js';

export const rtpPathOptionsSchema = z.object({
  /** Signalling transport; media is always UDP. */
  transport: z._default(z.enum(SIP_TRANSPORTS), 'udp'),
  port: z.optional(z.int().check(z.minimum(1), z.maximum(65535))),
  durationMs: z._default(z.int().check(z.minimum(1_000), z.maximum(30_000)), 5_000),
  packetsPerSecond: z._default(z.int().check(z.minimum(10), z.maximum(100)), 50),
  /** 160 is G.711 at 20 ms; smaller payloads cost less on slow links (the marker needs 32). */
  payloadBytes: z._default(z.int().check(z.minimum(MIN_RTP_PAYLOAD_BYTES), z.maximum(MAX_RTP_PAYLOAD_BYTES)), G711_20MS_PAYLOAD_BYTES),
  /** The E-model's codec: G.711 with packet loss concealment (as phones ship) or without. */
  plc: z._default(z.boolean(), true),
  requestTimeoutMs: z._default(z.int().check(z.minimum(100), z.maximum(32_000)), 4_000),
  rejectUnauthorized: z._default(z.boolean(), false),
});
export type RtpPathOptions = z.infer<typeof rtpPathOptionsSchema>;

/** RtpPathDetail is check's `rtp` report, or why the call could not be set up (sdpReceived null). */
export type RtpPathDetail = RtpReport;

/** Time to keep listening after the last packet, for late ones. */
const GRACE_MS = 400;

/**
 * rtpPathProbe succeeds when the test call was set up and its media measured, whatever the verdict
 * (one-way audio is a finding, not a failure); success=false when the INVITE got no 200 OK.
 */
export const rtpPathProbe: Probe<RtpPathOptions, RtpPathDetail> = {
  name: 'rtp-path',
  optionsSchema: rtpPathOptionsSchema,
  defaults: { transport: 'udp', durationMs: 5_000, packetsPerSecond: 50, payloadBytes: G711_20MS_PAYLOAD_BYTES, plc: true, requestTimeoutMs: 4_000, rejectUnauthorized: false },
  timeoutMs: 60_000,
  async run(ctx, target, options) {
    const port = options.port ?? target.port ?? defaultSipPort(options.transport);
    const report = await testCall(target.host, port, options, ctx.signal);
    const answered = report.sdpReceived !== null;
    return { success: answered, detail: report, points: answered ? [rtpPathPoint(target, options.transport, report)] : [] };
  },
};

async function testCall(host: string, port: number, options: RtpPathOptions, signal: AbortSignal): Promise<RtpReport> {
  let channel: SipChannel;
  try {
    channel = await openSipChannel({ transport: options.transport, host, port, connectTimeoutMs: options.requestTimeoutMs, rejectUnauthorized: options.rejectUnauthorized, signal });
  } catch (err) {
    if (err instanceof SipChannelError) return unanswered('', err.message);
    throw err;
  }
  const rtpSocket = await openRtpSocket(channel.localAddress);
  const sdpSent = hostPort(channel.localAddress, rtpSocket.address().port);
  try {
    const ends = { transport: options.transport, localAddress: channel.localAddress, localPort: channel.localPort, remoteHost: host, remotePort: port };
    const invite = buildSipRequest('INVITE', ends, { probeMarker: false, mediaPort: rtpSocket.address().port, extraHeaders: [[RTP_PROBE_HEADER, '1']] });
    const exchange = await channel.request(invite, options.requestTimeoutMs);
    if (exchange.kind !== 'response') {
      return unanswered(sdpSent, exchange.kind === 'timeout' ? `the INVITE to ${host}:${port} got no answer` : `the INVITE to ${host}:${port} failed: ${exchange.reason}`);
    }
    const { response } = exchange;
    if (response.response?.statusCode !== 200) return unanswered(sdpSent, `the reflector answered the INVITE with "${response.response?.statusCode} ${response.response?.reason}"`);
    const answer = sdpAudioMedia(response.body);
    const seen = decodeRtpSessionHeader(sipHeaderValue(response, RTP_SESSION_HEADER), rtpSessionAnswerSchema);
    if (!answer?.nonce || !seen) return unanswered(sdpSent, `the 200 OK from ${host}:${port} is not an algwatch reflector's RTP answer`);
    // Media goes to the answer's c= unless it is a wildcard; then to the address signalling reached.
    const mediaAddress = answer.address === '0.0.0.0' || answer.address === '::' ? channel.remoteAddress : answer.address;
    const media = await exchangeMedia(rtpSocket, {
      to: { address: mediaAddress, port: answer.port },
      nonce: answer.nonce,
      durationMs: options.durationMs,
      packetsPerSecond: options.packetsPerSecond,
      payloadBytes: options.payloadBytes,
      graceMs: GRACE_MS,
    }, signal);
    const bye = await channel.request(byeFor(invite, response.headers, ends.localAddress, ends.localPort, host, port, options.transport), options.requestTimeoutMs);
    const reflector = bye.kind === 'response' ? decodeRtpSessionHeader(sipHeaderValue(bye.response, RTP_SESSION_HEADER), rtpSessionReportSchema) : null;
    return judgeRtpPath({ sdpSent, sdpReceived: seen.sdpSeen, media, reflector, codec: options.plc ? G711_WITH_PLC : G711_WITHOUT_PLC });
  } finally {
    rtpSocket.close();
    channel.close();
  }
}

/** byeFor writes the BYE ending the call the INVITE set up (RFC 3261 §15.1.1): same Call-ID and From, the answer's To tag, a new branch, CSeq 2. */
function byeFor(invite: SipOutgoingRequest, answerHeaders: ReadonlyArray<{ canonical: string; value: string }>, localAddress: string, localPort: number, host: string, port: number, transport: SipTransport): SipOutgoingRequest<'BYE'> {
  const header = (name: string) => answerHeaders.find((candidate) => candidate.canonical === name)?.value ?? '';
  const branch = `z9hG4bK${randomBytes(8).toString('hex')}`; // RFC 3261 §8.1.1.7 magic cookie
  const cseq = '2 BYE';
  const uriParams = transport === 'udp' ? '' : `;transport=${transport}`;
  const hostInUri = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const text = buildSipMessage({
    startLine: `BYE sip:echo@${hostInUri}:${port}${uriParams} SIP/2.0`,
    headers: [
      ['Via', `SIP/2.0/${transport.toUpperCase()} ${hostPort(localAddress, localPort)};branch=${branch};rport`],
      ['Max-Forwards', '70'],
      ['From', header('From')],
      ['To', header('To')],
      ['Call-ID', invite.callId],
      ['CSeq', cseq],
      ['User-Agent', 'algwatch'],
      [RTP_PROBE_HEADER, '1'],
      ['Content-Length', '0'],
    ],
  });
  return { method: 'BYE', text, branch, callId: invite.callId, cseq };
}

/** unanswered is the report of a call that never got set up: nothing measured. */
function unanswered(sdpSent: string, reason: string): RtpReport {
  const nothing = { sent: 0, received: 0, lossPct: 0, jitterMs: 0, maxGapMs: 0 };
  return { verdict: 'none', inboundPath: 'none', outbound: nothing, inbound: nothing, rFactor: null, mos: null, sdpSent, sdpReceived: null, pinholeOpenToOthers: null, reason };
}

/** rtpPathPoint is the `rtp_path` point of one test call. */
export function rtpPathPoint(target: ProbeTarget, transport: SipTransport, report: RtpReport): MetricPoint {
  const fields: MetricPoint['fields'] = {
    out_sent: report.outbound.sent,
    out_received: report.outbound.received,
    out_loss_pct: report.outbound.lossPct,
    out_jitter_ms: report.outbound.jitterMs,
    out_max_gap_ms: report.outbound.maxGapMs,
    out_reordered: report.outbound.reordered ?? 0,
    in_sent: report.inbound.sent,
    in_received: report.inbound.received,
    in_loss_pct: report.inbound.lossPct,
    in_jitter_ms: report.inbound.jitterMs,
    in_max_gap_ms: report.inbound.maxGapMs,
    in_reordered: report.inbound.reordered ?? 0,
    sdp_rewritten: report.sdpReceived !== null && report.sdpReceived !== report.sdpSent,
  };
  if (report.rttMs !== undefined && report.rttMs !== null) fields.rtt_ms = report.rttMs;
  if (report.rFactor !== null) fields.r_factor = report.rFactor;
  if (report.mos !== null) fields.mos = report.mos;
  if (report.pinholeOpenToOthers !== null) fields.pinhole_open = report.pinholeOpenToOthers;
  return { measurement: 'rtp_path', tags: { target: targetLabel(target), transport, result: report.verdict, inbound_path: report.inboundPath }, fields };
}

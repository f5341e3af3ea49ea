/**
 * sip-options: the SIP OPTIONS keep-alive toward one of the site's SIP peers (PBX, trunk,
 * registrar), as phones and SBCs send it: a short series of OPTIONS with `;rport` on one socket or
 * connection, which shows the peer answers, how fast, how many get lost, and (from the response's
 * Via received=/rport=, RFC 3581) the public address:port the peer sees.
 *
 * Passive ALG detection: given the site's latest STUN mapping (stunPublicAddress), the answer's Via is
 * compared with what was sent and with STUN. A received= that names the agent's own private address
 * while STUN sees another one, or a Via sent-by that came back changed, means a SIP ALG on the path
 * to this peer rewrote the answer (nf_nat_sip rewrites received=/rport= back to the private side).
 *
 * Writes measurement `sip_options` (tags target, transport, result = ok|error_response|timeout|
 * connection_failed; fields rtt_ms, status_code, loss_pct, public_address, public_port, and with a
 * STUN mapping alg_on_path, stun_address, local_address, alg_fields).
 * Example: `sip_options,target=pbx,transport=udp,result=ok rtt_ms=12.5,status_code=200i,loss_pct=0,
 * public_address="203.0.113.7",public_port=40512i`
 */
import * as z from '@algwatch/protocol/zod';
import { SIP_TRANSPORTS, type SipTransport } from '@algwatch/protocol/check-report';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import { parseVia, sipHeaderValue, splitHeaderList, viaParam, type SipMessage } from '@algwatch/protocol/sip';
import { openSipChannel, SipChannelError, type SipChannel } from '../sip/channel.js';
import { medianMs } from '../sip/median.js';
import { buildSipRequest } from '../sip/requests.js';
import { targetLabel, type Probe } from './probe.js';
import { defaultSipPort } from './sip-alg.js';

export interface SipOptionsOptions {
  transport: SipTransport;
  /** Peer port; default the target's port, else 5060 (5061 for TLS). */
  port?: number;
  /** OPTIONS sent per run, one every intervalMs; loss_pct is over this count. */
  count: number;
  intervalMs: number;
  /** How long one OPTIONS waits for its answer (UDP retransmits within it). */
  requestTimeoutMs: number;
  /** TLS: verify the peer's certificate. */
  rejectUnauthorized: boolean;
  /** The site's public address from its latest STUN mapping; without it the ALG is not judged. */
  stunPublicAddress?: string;
}

export const sipOptionsOptionsSchema = z.object({
  transport: z.enum(SIP_TRANSPORTS),
  port: z.optional(z.int().check(z.minimum(1), z.maximum(65535))),
  count: z.int().check(z.minimum(1), z.maximum(20)),
  intervalMs: z.int().check(z.minimum(0), z.maximum(10_000)),
  requestTimeoutMs: z.int().check(z.minimum(100), z.maximum(32_000)),
  rejectUnauthorized: z.boolean(),
  stunPublicAddress: z.optional(z.string().check(z.minLength(2), z.maxLength(45), z.regex(/^[0-9a-fA-F.:]+$/))),
});

export type SipOptionsResult = 'ok' | 'error_response' | 'timeout' | 'connection_failed';

export interface SipOptionsReport {
  result: SipOptionsResult;
  /** Median round trip of the answered OPTIONS. */
  rttMs: number | null;
  /** The last final status code received. */
  statusCode: number | null;
  lossPct: number;
  publicAddress: string | null;
  publicPort: number | null;
  /** One line, when result is not ok. */
  reason?: string;
  /** Passive ALG verdict on the answer; null when not judged (no STUN mapping or no answer). */
  algOnPath: boolean | null;
  /** The answer's fields that came back rewritten, e.g. "Via received=198.51.100.2". */
  algFields: string[];
  /** The agent's own address on the keep-alive's socket. */
  localAddress: string | null;
  /** The STUN mapping the answer was compared with. */
  stunAddress: string | null;
}

/**
 * sipOptionsProbe succeeds when the peer answered at least one OPTIONS with 2xx. A 4xx-6xx answer
 * (error_response: the peer is reachable but refuses OPTIONS, e.g. 404 or 401), silence (timeout)
 * and a failed connection are results, never exceptions.
 */
export const sipOptionsProbe: Probe<SipOptionsOptions, SipOptionsReport> = {
  name: 'sip-options',
  optionsSchema: sipOptionsOptionsSchema,
  defaults: { transport: 'udp', count: 3, intervalMs: 200, requestTimeoutMs: 2_000, rejectUnauthorized: false },
  timeoutMs: 15_000,
  async run(ctx, target, options) {
    const port = options.port ?? target.port ?? defaultSipPort(options.transport);
    const report = await sendOptionsSeries(target.host, port, options, ctx.signal);
    const fields: MetricPoint['fields'] = { loss_pct: report.lossPct };
    if (report.rttMs !== null) fields.rtt_ms = report.rttMs;
    if (report.statusCode !== null) fields.status_code = report.statusCode;
    if (report.publicAddress !== null) fields.public_address = report.publicAddress;
    if (report.publicPort !== null) fields.public_port = report.publicPort;
    if (report.algOnPath !== null) {
      fields.alg_on_path = report.algOnPath;
      if (report.stunAddress !== null) fields.stun_address = report.stunAddress;
      if (report.localAddress !== null) fields.local_address = report.localAddress;
      if (report.algFields.length > 0) fields.alg_fields = report.algFields.join(', ');
    }
    return {
      success: report.result === 'ok',
      detail: report,
      points: [{ measurement: 'sip_options', tags: { target: targetLabel(target), transport: options.transport, result: report.result }, fields }],
    };
  },
};

async function sendOptionsSeries(host: string, port: number, options: SipOptionsOptions, signal: AbortSignal): Promise<SipOptionsReport> {
  const where = `${host}:${port}`;
  const empty = { rttMs: null, statusCode: null, lossPct: 100, publicAddress: null, publicPort: null, algOnPath: null, algFields: [], localAddress: null, stunAddress: options.stunPublicAddress ?? null };
  let channel: SipChannel;
  try {
    channel = await openSipChannel({ transport: options.transport, host, port, connectTimeoutMs: options.requestTimeoutMs, rejectUnauthorized: options.rejectUnauthorized, signal });
  } catch (err) {
    if (err instanceof SipChannelError) return { result: 'connection_failed', ...empty, reason: err.message };
    throw err;
  }
  const rtts: number[] = [];
  let last: SipMessage | null = null;
  let lostReason: string | null = null;
  try {
    // One Call-ID with rising CSeq, as a UA's keep-alive series looks (RFC 3261 §8.1.1.5).
    const ends = { transport: options.transport, localAddress: channel.localAddress, localPort: channel.localPort, remoteHost: host, remotePort: port };
    const callId = buildSipRequest('OPTIONS', ends, { probeMarker: false }).callId;
    for (let i = 0; i < options.count && !signal.aborted; i++) {
      const started = performance.now();
      const exchange = await channel.request(buildSipRequest('OPTIONS', ends, { probeMarker: false, cseqNumber: i + 1, callId }), options.requestTimeoutMs);
      if (exchange.kind === 'response') {
        rtts.push(exchange.rttMs);
        last = exchange.response;
      } else {
        lostReason = exchange.kind === 'closed' ? exchange.reason : `no answer from ${where} within ${options.requestTimeoutMs} ms`;
        if (exchange.kind === 'closed') break;
      }
      const wait = options.intervalMs - (performance.now() - started);
      if (i + 1 < options.count && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  } finally {
    channel.close();
  }
  const lossPct = Math.round(((options.count - rtts.length) / options.count) * 1000) / 10;
  if (!last) return { result: 'timeout', ...empty, reason: lostReason ?? `no answer from ${where}` };
  const statusCode = last.response!.statusCode;
  const { address, port: publicPort } = publicAddressOf(last);
  const stunAddress = options.stunPublicAddress ?? null;
  const algFields = stunAddress === null ? [] : rewrittenFields(last, { address: channel.localAddress, port: channel.localPort }, stunAddress);
  const report: SipOptionsReport = {
    result: statusCode < 300 ? 'ok' : 'error_response',
    rttMs: medianMs(rtts),
    statusCode,
    lossPct,
    publicAddress: address,
    publicPort,
    algOnPath: stunAddress === null ? null : algFields.length > 0,
    algFields,
    localAddress: channel.localAddress,
    stunAddress,
  };
  if (report.result === 'error_response') report.reason = `${where} answered OPTIONS with "${statusCode} ${last.response!.reason}"`;
  else if (lossPct > 0 && lostReason) report.reason = lostReason;
  return report;
}

/**
 * rewrittenFields compares the answer's top Via with what was sent (sent-by = the socket's own
 * address:port) and its received= with the STUN mapping. A peer writes received= from the packet's
 * source, which behind a NAT is the public address STUN sees; reading the agent's own private
 * address there instead means something on the way back rewrote it. Behind no NAT (STUN sees the
 * local address) nothing can differ, so nothing is flagged.
 */
function rewrittenFields(response: SipMessage, local: { address: string; port: number }, stunAddress: string): string[] {
  if (stunAddress === local.address) return [];
  const top = splitHeaderList(sipHeaderValue(response, 'Via') ?? '')[0];
  const via = top === undefined ? null : parseVia(top);
  if (!via) return [];
  const fields: string[] = [];
  const received = viaParam(via, 'received');
  if (typeof received === 'string' && received === local.address) fields.push(`Via received=${received} (STUN: ${stunAddress})`);
  // IPv6 sent-by is bracketed in SIP ([2001:db8::1]:5060), bare on the socket.
  const host = via.host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host !== local.address.toLowerCase() || (via.port ?? 5060) !== local.port) fields.push(`Via sent-by ${via.host}:${via.port ?? 5060} (sent ${local.address}:${local.port})`);
  return fields;
}

/** publicAddressOf reads received= and rport= from the response's top Via (RFC 3581 §4). */
function publicAddressOf(response: SipMessage): { address: string | null; port: number | null } {
  const top = splitHeaderList(sipHeaderValue(response, 'Via') ?? '')[0];
  const via = top === undefined ? null : parseVia(top);
  const received = via ? viaParam(via, 'received') : undefined;
  const rport = via ? viaParam(via, 'rport') : undefined;
  return {
    address: typeof received === 'string' && received.length > 0 ? received : null,
    port: typeof rport === 'string' && /^\d{1,5}$/.test(rport) ? Number(rport) : null,
  };
}

/**
 * sip-options: the SIP OPTIONS keep-alive toward one of the site's SIP peers (PBX, trunk,
 * registrar), as phones and SBCs send it: a short series of OPTIONS with `;rport` on one socket or
 * connection, which shows the peer answers, how fast, how many get lost, and (from the response's
 * Via received=/rport=, RFC 3581) the public address:port the peer sees.
 *
 * Writes measurement `sip_options` (tags target, transport, result = ok|error_response|timeout|
 * connection_failed; fields rtt_ms, status_code, loss_pct, public_address, public_port).
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
}

export const sipOptionsOptionsSchema = z.object({
  transport: z.enum(SIP_TRANSPORTS),
  port: z.optional(z.int().check(z.minimum(1), z.maximum(65535))),
  count: z.int().check(z.minimum(1), z.maximum(20)),
  intervalMs: z.int().check(z.minimum(0), z.maximum(10_000)),
  requestTimeoutMs: z.int().check(z.minimum(100), z.maximum(32_000)),
  rejectUnauthorized: z.boolean(),
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
    return {
      success: report.result === 'ok',
      detail: report,
      points: [{ measurement: 'sip_options', tags: { target: targetLabel(target), transport: options.transport, result: report.result }, fields }],
    };
  },
};

async function sendOptionsSeries(host: string, port: number, options: SipOptionsOptions, signal: AbortSignal): Promise<SipOptionsReport> {
  const where = `${host}:${port}`;
  const empty = { rttMs: null, statusCode: null, lossPct: 100, publicAddress: null, publicPort: null };
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
  const report: SipOptionsReport = {
    result: statusCode < 300 ? 'ok' : 'error_response',
    rttMs: medianMs(rtts),
    statusCode,
    lossPct,
    publicAddress: address,
    publicPort,
  };
  if (report.result === 'error_response') report.reason = `${where} answered OPTIONS with "${statusCode} ${last.response!.reason}"`;
  else if (lossPct > 0 && lostReason) report.reason = lostReason;
  return report;
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

/**
 * sip-alg: detects a SIP ALG between the agent and algwatch's SIP reflector on one transport.
 *
 * It sends an OPTIONS, a REGISTER and an INVITE with SDP, written with the socket's own local
 * address:port as a phone would, and compares byte for byte:
 * - outbound: what the reflector received (from the echo) against what was sent;
 * - inbound: the reply's canaries as received against what the reflector wrote (from the echo).
 *
 * Writes measurement `sip_alg` (tags target, transport, result = detected|clean|blocked|error;
 * fields alg_detected, rewrites_outbound, rewrites_inbound, rewritten_fields, rtt_ms).
 * Example: `sip_alg,target=reflector.example.net,transport=udp,result=detected alg_detected=true,
 * rewrites_outbound=4i,rewrites_inbound=6i,rewritten_fields="Via,Contact,From,SDP c=",rtt_ms=21.4`
 */
import * as z from '@algwatch/protocol/zod';
import { REFLECTOR_BUSY, sipSignatureValue, type ProbeKey } from '@algwatch/protocol/probe-signature';
import { SIP_TRANSPORTS, type SipAlgStatus, type SipAlgTransportReport, type SipRewrite, type SipTransport } from '@algwatch/protocol/check-report';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import { parseSipMessage, sipHeaderValue } from '@algwatch/protocol/sip';
import { decodeSipEcho, SIP_ECHO_HEADER } from '@algwatch/protocol/sip-echo';
import { openSipChannel, SipChannelError, type SipChannel, type SipExchange } from '../sip/channel.js';
import { dedupeRewrites, diffSipLayouts, layoutOf, layoutOfLines } from '../sip/diff.js';
import { medianMs } from '../sip/median.js';
import { buildSipRequest, type SipOutgoingRequest, type SipProbeMethod } from '../sip/requests.js';
import { targetLabel, type Probe, type ProbeTarget } from './probe.js';

export interface SipAlgOptions {
  transport: SipTransport;
  /** Reflector port; default the target's port, else 5060 (5061 for TLS). */
  port?: number;
  /** TLS: verify the reflector's certificate. Off by default: it is self-signed unless configured. */
  rejectUnauthorized: boolean;
  /** How long one request waits for its answer (UDP retransmits within it, RFC 3261 Timer E). */
  requestTimeoutMs: number;
}

export const sipAlgOptionsSchema = z.object({
  transport: z.enum(SIP_TRANSPORTS),
  port: z.optional(z.int().check(z.minimum(1), z.maximum(65535))),
  rejectUnauthorized: z.boolean(),
  requestTimeoutMs: z.int().check(z.minimum(100), z.maximum(32_000)),
});

const METHODS: readonly SipProbeMethod[] = ['OPTIONS', 'REGISTER', 'INVITE'];

/** defaultSipPort is 5061 for SIP over TLS and 5060 otherwise (RFC 3261 §19.1.2). */
export function defaultSipPort(transport: SipTransport): number {
  return transport === 'tls' ? 5061 : 5060;
}

/**
 * sipAlgProbe reports `detected` when any header or SDP line changed on the way out or back,
 * `clean` when all three requests were answered unchanged, `blocked` when there was no answer or
 * no connection, `busy` when the reflector answered a signed probe 503 (its site's budget is spent),
 * and `error` when something other than an algwatch reflector answered. Success
 * means the check ran (clean or detected): an ALG found is a finding, not a failure.
 */
export const sipAlgProbe: Probe<SipAlgOptions, SipAlgTransportReport> = {
  name: 'sip-alg',
  optionsSchema: sipAlgOptionsSchema,
  defaults: { transport: 'udp', rejectUnauthorized: false, requestTimeoutMs: 4_000 },
  timeoutMs: 20_000,
  async run(ctx, target, options) {
    const port = options.port ?? target.port ?? defaultSipPort(options.transport);
    const report = await detectSipAlg(target.host, port, options, ctx.signal, target.probeKey);
    return {
      success: report.status === 'clean' || report.status === 'detected',
      detail: report,
      points: [sipAlgPoint(target, options.transport, report)],
    };
  },
};

async function detectSipAlg(host: string, port: number, options: SipAlgOptions, signal: AbortSignal, probeKey?: ProbeKey): Promise<SipAlgTransportReport> {
  const where = `${host}:${port}`;
  const name = options.transport.toUpperCase();
  let channel: SipChannel;
  try {
    channel = await openSipChannel({ transport: options.transport, host, port, connectTimeoutMs: options.requestTimeoutMs, rejectUnauthorized: options.rejectUnauthorized, signal });
  } catch (err) {
    if (err instanceof SipChannelError) return report(err.blocked ? 'blocked' : 'error', [], [], err.message);
    throw err;
  }
  const rewrites: SipRewrite[] = [];
  const rtts: number[] = [];
  const unanswered: string[] = [];
  const build = (method: SipProbeMethod) =>
    buildSipRequest(
      method,
      { transport: options.transport, localAddress: channel.localAddress, localPort: channel.localPort, remoteHost: host, remotePort: port },
      { probeMarker: true, ...(probeKey ? { signature: sipSignatureValue(probeKey) } : {}) },
    );
  const send = (request: SipOutgoingRequest): PendingRequest => ({ method: request.method, request, exchange: channel.request(request, options.requestTimeoutMs) });
  // OPTIONS goes alone: REGISTER and INVITE go only to a proven algwatch reflector, never to some
  // other SIP server. Once OPTIONS proved it, both go out together: one round trip, not two.
  // Outcomes are still read in METHODS order, so the report is the one asking in turn would give.
  const [first, ...rest] = METHODS;
  const pending: PendingRequest[] = [send(build(first!))];
  const later = rest.map(build); // written while OPTIONS travels
  try {
    for (let i = 0; i < pending.length; i++) {
      const { method, request } = pending[i]!;
      const exchange = await pending[i]!.exchange;
      if (exchange.kind === 'closed') return report('blocked', rewrites, rtts, `${method} over ${name}: ${exchange.reason}`);
      if (exchange.kind === 'timeout') {
        if (rtts.length === 0) {
          const tries = options.transport === 'udp' ? ` after ${exchange.sends} tries` : '';
          return report('blocked', [], [], `no answer over ${name} from ${where} to ${method}${tries} in ${options.requestTimeoutMs} ms`);
        }
        unanswered.push(method);
        continue;
      }
      const { response } = exchange;
      const status = `${response.response?.statusCode} ${response.response?.reason}`;
      if (probeKey && response.response?.statusCode === 503) {
        // The reflector's answer to a signed probe whose site spent its budget: the path is fine.
        const retry = sipHeaderValue(response, 'Retry-After');
        return report('busy', rewrites, rtts, `${REFLECTOR_BUSY}: ${method} over ${name} to ${where} got "${status}"${retry ? `, retry after ${retry.trim()} s` : ''}`);
      }
      if (response.response?.statusCode !== 200) return report('error', rewrites, rtts, `not an algwatch reflector: ${method} to ${where} got "${status}"`);
      const echo = decodeSipEcho(sipHeaderValue(response, SIP_ECHO_HEADER) ?? '');
      if (!echo) return report('error', rewrites, rtts, `not an algwatch reflector: the 200 OK from ${where} has no valid ${SIP_ECHO_HEADER} header`);
      if (i === 0) pending.push(...later.map(send)); // compare OPTIONS while they travel
      rtts.push(exchange.rttMs);
      rewrites.push(
        ...outboundRewrites(request.text, echo.request),
        ...diffSipLayouts('inbound', layoutOfLines(echo.canaries.startLine, echo.canaries.headers, echo.canaries.sdp), layoutOf(response, [SIP_ECHO_HEADER])),
      );
    }
  } finally {
    channel.close();
  }
  if (unanswered.length > 0) {
    const reason = `${unanswered.join(', ')} got no answer over ${name} from ${where} while ${METHODS.filter((m) => !unanswered.includes(m)).join(', ')} did: something on the path drops them`;
    return report(rewrites.length > 0 ? 'detected' : 'blocked', rewrites, rtts, reason);
  }
  return report(rewrites.length > 0 ? 'detected' : 'clean', rewrites, rtts);
}

/** outboundRewrites compares a request as sent with the reflector's echo of it as received. */
function outboundRewrites(sent: string, received: string): SipRewrite[] {
  if (sent === received) return []; // the usual case: nothing to parse
  const seen = parseSipMessage(received);
  if (!seen) return [{ direction: 'outbound', field: 'Message', sent, received }];
  return diffSipLayouts('outbound', layoutOf(parseSipMessage(sent)!), layoutOf(seen));
}

/** A request on its way: what was sent and how it will end. */
interface PendingRequest {
  method: SipProbeMethod;
  request: SipOutgoingRequest;
  exchange: Promise<SipExchange>;
}

function report(status: SipAlgStatus, rewrites: SipRewrite[], rtts: number[], reason?: string): SipAlgTransportReport {
  // Outbound first, then inbound: the order a technician follows the path in (sort is stable).
  const ordered = dedupeRewrites(rewrites).sort((a, b) => Number(a.direction === 'inbound') - Number(b.direction === 'inbound'));
  const result: SipAlgTransportReport = { status, rewrites: ordered, rttMs: medianMs(rtts) };
  if (reason !== undefined) result.reason = reason;
  return result;
}

/** sipAlgPoint is the `sip_alg` point for one transport's report. */
export function sipAlgPoint(target: ProbeTarget, transport: SipTransport, report: SipAlgTransportReport): MetricPoint {
  const fields: MetricPoint['fields'] = {
    alg_detected: report.status === 'detected',
    rewrites_outbound: report.rewrites.filter((rewrite) => rewrite.direction === 'outbound').length,
    rewrites_inbound: report.rewrites.filter((rewrite) => rewrite.direction === 'inbound').length,
    rewritten_fields: [...new Set(report.rewrites.map((rewrite) => rewrite.field))].join(','),
  };
  if (report.rttMs !== null) fields.rtt_ms = report.rttMs;
  return { measurement: 'sip_alg', tags: { target: targetLabel(target), transport, result: report.status }, fields };
}

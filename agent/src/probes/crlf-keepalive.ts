/**
 * crlf-keepalive: the RFC 5626 keep-alive on a SIP flow over TCP or TLS. The agent connects to
 * the site's SIP peer, sends the CRLFCRLF ping and waits for the single CRLF pong (RFC 5626
 * §3.5.1). A peer that supports outbound answers within a few seconds; §4.4.1 treats no pong
 * within 10 s as a failed flow.
 *
 * Writes measurement `crlf_keepalive` (tags target, transport, result = ok|timeout|
 * connection_failed; fields pong, rtt_ms).
 * Example: `crlf_keepalive,target=pbx,transport=tls,result=ok pong=true,rtt_ms=8.2`
 */
import * as z from '@algwatch/protocol/zod';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import { openSipChannel, SipChannelError } from '../sip/channel.js';
import { targetLabel, type Probe } from './probe.js';
import { defaultSipPort } from './sip-alg.js';

export interface CrlfKeepaliveOptions {
  transport: 'tcp' | 'tls';
  /** Peer port; default the target's port, else 5060 (5061 for TLS). */
  port?: number;
  /** How long to wait for the pong. */
  pongTimeoutMs: number;
  /** TLS: verify the peer's certificate. */
  rejectUnauthorized: boolean;
}

export const crlfKeepaliveOptionsSchema = z.object({
  transport: z.enum(['tcp', 'tls']),
  port: z.optional(z.int().check(z.minimum(1), z.maximum(65535))),
  pongTimeoutMs: z.int().check(z.minimum(100), z.maximum(30_000)),
  rejectUnauthorized: z.boolean(),
});

export type CrlfKeepaliveResult = 'ok' | 'timeout' | 'connection_failed';

export interface CrlfKeepaliveReport {
  result: CrlfKeepaliveResult;
  pong: boolean;
  rttMs: number | null;
  /** One line, when result is not ok. */
  reason?: string;
}

/**
 * crlfKeepaliveProbe succeeds when the pong came back. No pong (timeout: the peer does not do
 * RFC 5626 keep-alives, or something on the path eats them) and a failed connection are results.
 */
export const crlfKeepaliveProbe: Probe<CrlfKeepaliveOptions, CrlfKeepaliveReport> = {
  name: 'crlf-keepalive',
  optionsSchema: crlfKeepaliveOptionsSchema,
  defaults: { transport: 'tcp', pongTimeoutMs: 5_000, rejectUnauthorized: false },
  timeoutMs: 15_000,
  async run(ctx, target, options) {
    const port = options.port ?? target.port ?? defaultSipPort(options.transport);
    const report = await pingOnce(target.host, port, options, ctx.signal);
    const fields: MetricPoint['fields'] = { pong: report.pong };
    if (report.rttMs !== null) fields.rtt_ms = report.rttMs;
    return {
      success: report.result === 'ok',
      detail: report,
      points: [{ measurement: 'crlf_keepalive', tags: { target: targetLabel(target), transport: options.transport, result: report.result }, fields }],
    };
  },
};

async function pingOnce(host: string, port: number, options: CrlfKeepaliveOptions, signal: AbortSignal): Promise<CrlfKeepaliveReport> {
  let channel;
  try {
    channel = await openSipChannel({ transport: options.transport, host, port, connectTimeoutMs: options.pongTimeoutMs, rejectUnauthorized: options.rejectUnauthorized, signal });
  } catch (err) {
    if (err instanceof SipChannelError) return { result: 'connection_failed', pong: false, rttMs: null, reason: err.message };
    throw err;
  }
  try {
    const outcome = await channel.ping(options.pongTimeoutMs);
    if (outcome.kind === 'pong') return { result: 'ok', pong: true, rttMs: Math.round(outcome.rttMs * 1000) / 1000 };
    // A peer that closes the flow on a ping is as useless for keep-alive as one that stays silent.
    const reason = outcome.kind === 'closed' ? `${outcome.reason} after the CRLFCRLF ping` : `no CRLF pong from ${host}:${port} within ${options.pongTimeoutMs} ms`;
    return { result: 'timeout', pong: false, rttMs: null, reason };
  } finally {
    channel.close();
  }
}

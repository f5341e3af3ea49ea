/**
 * Findings of the crlf-keepalive probe (RFC 5626 ping/pong on a TCP or TLS flow). Its peers are
 * the same SIP peers sip-options watches, so it raises the same target_* codes (defined in
 * sip-options.ts): here a slow pong; a peer that stops answering is target_down, counted over
 * consecutive runs by the server's alert rules.
 */
import type { ProbeResultMessage } from '../events.js';
import type { Finding, FindingPlace } from './finding.js';
import { slowRttFindings } from './sip-options.js';

/** crlfKeepaliveFindings grades one stored crlf-keepalive result: target_slow when the pong came late. */
export function crlfKeepaliveFindings(result: Pick<ProbeResultMessage, 'points'>, place: FindingPlace): Finding[] {
  const point = result.points.find((candidate) => candidate.measurement === 'crlf_keepalive');
  const rtt = point?.fields.pong === true ? point.fields.rtt_ms : undefined;
  return slowRttFindings(typeof rtt === 'number' ? rtt : undefined, 'the CRLF keep-alive', place);
}

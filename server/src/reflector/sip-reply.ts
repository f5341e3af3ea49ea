/**
 * The SIP reflector's answers, as pure functions of (request bytes, observed source): what a
 * probe request gets back (a 200 OK with inbound canaries and the echo), what an ordinary OPTIONS
 * keep-alive gets (a plain 200 OK), and what everything else gets (nothing).
 */
import { createHash } from 'node:crypto';
import type { SipTransport } from '@algwatch/protocol/check-report';
import {
  buildSipMessage, formatVia, parseSipMessage, parseVia, sdpAddress, sipHeaderLines, sipHeaderValue, sipHeaderValues,
  sipHostPort, sipText, splitHeaderList, splitSdpLines, type SipMessage,
} from '@algwatch/protocol/sip';
import { encodeSipEcho, SIP_ECHO_HEADER, SIP_ECHO_VERSION, SIP_PROBE_HEADER } from '@algwatch/protocol/sip-echo';

/** SipSource is where a request came from, as this server observed it (after any NAT). */
export interface SipSource {
  transport: SipTransport;
  address: string;
  port: number;
}

/** SipReply is a response to send; `kind` says which one, for logs and size rules. */
export interface SipReply {
  kind: 'echo' | 'plain' | 'busy';
  text: string;
}

const SERVER_HEADER = 'algwatch-reflector';

/**
 * replyToSipRequest decides the answer to one received message. It returns null (send nothing)
 * for garbage, for responses, for ACK (RFC 3261 §17.2.1: never answered), for requests missing a
 * mandatory header, and for ordinary requests other than OPTIONS: the reflector talks only to
 * algwatch probes and keep-alives, never to scanners.
 */
export function replyToSipRequest(requestBytes: Uint8Array, source: SipSource): SipReply | null {
  const request = parseSipMessage(requestBytes);
  if (!request?.request || request.request.method === 'ACK') return null;
  const dialogHeaders = responseDialogHeaders(request, source);
  if (!dialogHeaders) return null;
  const isProbe = sipHeaderValue(request, SIP_PROBE_HEADER)?.trim() === '1';
  if (!isProbe) {
    if (request.request.method !== 'OPTIONS') return null;
    return { kind: 'plain', text: buildSipMessage({ startLine: 'SIP/2.0 200 OK', headers: [...dialogHeaders, ['Server', SERVER_HEADER]] }) };
  }
  return { kind: 'echo', text: echoReply(requestBytes, source, dialogHeaders) };
}

/** How long a busy reflector asks a signed probe to wait (RFC 3261 §20.33 Retry-After), in seconds. */
export const BUSY_RETRY_AFTER_S = 5;

/**
 * busyReplyToSipRequest is the answer to a signed request whose site spent its budget: 503 with a
 * short Retry-After and nothing else, so `check` can say "reflector busy" rather than "blocked".
 * Null for what replyToSipRequest would not answer either.
 */
export function busyReplyToSipRequest(requestBytes: Uint8Array, source: SipSource): SipReply | null {
  const request = parseSipMessage(requestBytes);
  if (!request?.request || request.request.method === 'ACK') return null;
  const dialogHeaders = responseDialogHeaders(request, source);
  if (!dialogHeaders) return null;
  const headers: Array<[string, string]> = [...dialogHeaders, ['Retry-After', String(BUSY_RETRY_AFTER_S)], ['Content-Length', '0']];
  return { kind: 'busy', text: buildSipMessage({ startLine: 'SIP/2.0 503 Service Unavailable', headers }) };
}

/**
 * responseDialogHeaders are the headers every response to `request` copies (RFC 3261 §8.2.6.2: Via
 * stamped with received/rport, From, To with a tag added, Call-ID, CSeq); null when one is missing.
 */
export function responseDialogHeaders(request: SipMessage, source: SipSource): Array<[string, string]> | null {
  const vias = topViaWithSource(request, source);
  const from = sipHeaderValue(request, 'From');
  const to = sipHeaderValue(request, 'To');
  const callId = sipHeaderValue(request, 'Call-ID');
  const cseq = sipHeaderValue(request, 'CSeq');
  if (!vias || from === undefined || to === undefined || callId === undefined || cseq === undefined) return null;
  return [
    ...vias.map((via): [string, string] => ['Via', via]),
    ['From', from],
    ['To', /;\s*tag=/i.test(to) ? to : `${to};tag=${stableTag(callId, from)}`],
    ['Call-ID', callId],
    ['CSeq', cseq],
  ];
}

function echoReply(requestBytes: Uint8Array, source: SipSource, dialogHeaders: Array<[string, string]>): string {
  const startLine = 'SIP/2.0 200 OK';
  // Inbound canaries: the observed public address:port, exactly what nf_nat_sip's map_addr()
  // matches in a reply and maps back to the private address.
  const contactParams = source.transport === 'udp' ? '' : `;transport=${source.transport}`;
  const body = [
    'v=0',
    `o=algwatch ${source.port} 1 ${sdpAddress(source.address)}`,
    's=algwatch',
    `c=${sdpAddress(source.address)}`,
    't=0 0',
    `m=audio ${source.port} RTP/AVP 0`,
    'a=sendrecv',
    '',
  ].join('\r\n');
  const headers: Array<[string, string]> = [
    ...dialogHeaders,
    ['Contact', `<sip:algwatch@${sipHostPort(source.address, source.port)}${contactParams}>`],
    ['Server', SERVER_HEADER],
    ['Content-Type', 'application/sdp'],
    ['Content-Length', String(body.length)],
  ];
  // The canaries are the reply's lines exactly as written (parsing the reply gives the same lines
  // back: no value here holds a CRLF, since values come from parsed headers or are our own).
  const echo = encodeSipEcho({
    v: SIP_ECHO_VERSION,
    transport: source.transport,
    source: { address: source.address, port: source.port },
    request: sipText(requestBytes),
    canaries: { startLine, headers: sipHeaderLines({ startLine, headers, body }), sdp: splitSdpLines(body) },
  });
  return buildSipMessage({ startLine, headers: [...headers, [SIP_ECHO_HEADER, echo]], body });
}

/**
 * topViaWithSource returns the request's Via values with the top one stamped as RFC 3261 §18.2.1
 * and RFC 3581 §4 say: received= when sent-by differs from the source address or rport was asked
 * for, and rport= filled with the source port when the client sent a bare `;rport`.
 */
function topViaWithSource(request: SipMessage, source: SipSource): string[] | null {
  const headerValues = sipHeaderValues(request, 'Via');
  const first = headerValues[0];
  if (first === undefined) return null;
  const [top, ...restOfFirst] = splitHeaderList(first);
  const via = top === undefined ? null : parseVia(top);
  if (!via) return null;
  const wantsRport = via.params.some(([name]) => name.toLowerCase() === 'rport');
  via.params = via.params
    .filter(([name]) => name.toLowerCase() !== 'received')
    .map(([name, value]): [string, string | null] => (name.toLowerCase() === 'rport' ? [name, String(source.port)] : [name, value]));
  if (wantsRport || via.host.replace(/^\[|\]$/g, '') !== source.address) via.params.push(['received', source.address]);
  return [[formatVia(via), ...restOfFirst].join(', '), ...headerValues.slice(1)];
}

/** A To tag that is the same for a retransmission of the same request (the reflector is stateless). */
function stableTag(callId: string, from: string): string {
  return createHash('sha256').update(`${callId}\n${from}`).digest('hex').slice(0, 10);
}

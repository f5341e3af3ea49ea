/**
 * The SIP requests algwatch sends, written like a desk phone writes them: the socket's own local
 * address and port in Via sent-by, Contact, From (and REGISTER's To) and SDP o=/c=/m=. That exact
 * address:port is what an ALG such as Linux nf_nat_sip matches (map_addr()) and rewrites, so any
 * other value would make a real ALG look clean.
 */
import { SIP_SIGNATURE_HEADER } from '@algwatch/protocol/probe-signature';
import { randomBytes, randomInt } from 'node:crypto';
import type { SipTransport } from '@algwatch/protocol/check-report';
import { buildSipMessage, sdpAddress, sipHostPort } from '@algwatch/protocol/sip';
import { SIP_PROBE_HEADER } from '@algwatch/protocol/sip-echo';

export type SipProbeMethod = 'OPTIONS' | 'REGISTER' | 'INVITE';

/** SipEndpoints are both ends of the socket or connection a request goes out on. */
export interface SipEndpoints {
  transport: SipTransport;
  localAddress: string;
  localPort: number;
  /** The host as configured (name or address): it goes in the Request-URI and To. */
  remoteHost: string;
  remotePort: number;
}

/** SipOutgoingRequest is a request's exact text plus the identifiers its response must echo. */
export interface SipOutgoingRequest<Method extends string = SipProbeMethod> {
  /** The rtp-path probe also writes a BYE (Method 'BYE') to end its test call. */
  method: Method;
  text: string;
  branch: string;
  callId: string;
  cseq: string;
}

export interface SipRequestOptions {
  /** Adds `X-Algwatch-Probe: 1`, asking algwatch's reflector for canaries and the echo. */
  probeMarker: boolean;
  /** CSeq number; keep-alive series count up within one Call-ID. */
  cseqNumber?: number;
  callId?: string;
  /** X-Algwatch-Signature value (sipSignatureValue): only toward algwatch's reflector. */
  signature?: string;
  /** INVITE: the SDP offer's media port (default the signalling port, as sip-alg's canary offer). */
  mediaPort?: number;
  /** Added after User-Agent (e.g. `X-Algwatch-Rtp: 1`). */
  extraHeaders?: ReadonlyArray<readonly [string, string]>;
}

const USER_AGENT = 'algwatch';
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

/** buildSipRequest writes one OPTIONS, REGISTER or INVITE (with an SDP offer) for these endpoints. */
export function buildSipRequest(method: SipProbeMethod, ends: SipEndpoints, options: SipRequestOptions): SipOutgoingRequest {
  const local = sipHostPort(ends.localAddress, ends.localPort);
  const remote = `${hostForUri(ends.remoteHost)}:${ends.remotePort}`;
  const uriParams = ends.transport === 'udp' ? '' : `;transport=${ends.transport}`;
  // RFC 3261 §8.1.1.7: the branch starts with the magic cookie z9hG4bK.
  const branch = `z9hG4bK${hex(8)}`;
  const callId = options.callId ?? `${hex(10)}@${ends.localAddress}`;
  const cseq = `${options.cseqNumber ?? 1} ${method}`;
  const requestUri = method === 'REGISTER' ? `sip:${remote}${uriParams}` : `sip:echo@${remote}${uriParams}`;
  const self = `<sip:algwatch@${local}>`;
  const headers: Array<[string, string]> = [
    // RFC 3581 §3: a bare rport asks the server to return the source port it saw.
    ['Via', `SIP/2.0/${ends.transport.toUpperCase()} ${local};branch=${branch};rport`],
    ['Max-Forwards', '70'],
    ['From', `${self};tag=${hex(4)}`],
    ['To', method === 'REGISTER' ? self : `<sip:echo@${remote}>`],
    ['Call-ID', callId],
    ['CSeq', cseq],
    ['Contact', `<sip:algwatch@${local}${uriParams}>`],
  ];
  if (method === 'REGISTER') headers.push(['Expires', '60']);
  if (method !== 'OPTIONS') headers.push(['Allow', ALLOW]);
  if (method === 'OPTIONS') headers.push(['Accept', 'application/sdp']);
  headers.push(['User-Agent', USER_AGENT]);
  if (options.probeMarker) headers.push([SIP_PROBE_HEADER, '1']);
  if (options.signature !== undefined) headers.push([SIP_SIGNATURE_HEADER, options.signature]);
  for (const [name, value] of options.extraHeaders ?? []) headers.push([name, value]);
  let body = '';
  if (method === 'INVITE') {
    headers.push(['Content-Type', 'application/sdp']);
    body = sdpOffer(ends.localAddress, options.mediaPort ?? ends.localPort);
  }
  headers.push(['Content-Length', '0']);
  return { method, text: buildSipMessage({ startLine: `${method} ${requestUri} SIP/2.0`, headers, body }), branch, callId, cseq };
}

/** An audio offer as phones send it (RFC 3264 §5): G.711 and RFC 4733 DTMF, media at the local address. */
function sdpOffer(address: string, port: number): string {
  const session = randomInt(1, 2 ** 31);
  return [
    'v=0',
    `o=algwatch ${session} ${session} ${sdpAddress(address)}`,
    's=algwatch',
    `c=${sdpAddress(address)}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

function hostForUri(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

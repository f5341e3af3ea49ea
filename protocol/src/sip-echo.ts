/**
 * The contract between the SIP reflector and the agent's sip-alg probe: how the reflector reports
 * what it received so that no ALG can alter the report on the way back.
 *
 * The reflector answers a probe request with a 200 OK carrying two things:
 * - inbound canaries in clear (Via received=/rport=, Contact and SDP o=/c=/m= holding the source
 *   address:port it observed), which an ALG rewrites on the way back like any response;
 * - the echo header `X-Algwatch-Echo`, holding the exact request bytes it received and the exact
 *   canary lines it wrote, deflated and base64url-encoded. An ALG matches addresses as text
 *   (`203.0.113.7:5060`), and no address survives as text through deflate + base64.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as z from './zod.js';
import { SIP_TRANSPORTS } from './check-report.js';

/** The header that marks a request as an algwatch probe; its value is `1`. */
export const SIP_PROBE_HEADER = 'X-Algwatch-Probe';
/** The response header carrying the encoded SipEcho. */
export const SIP_ECHO_HEADER = 'X-Algwatch-Echo';
export const SIP_ECHO_VERSION = 1;

/** Upper bounds that keep a hostile echo from costing memory: a UDP reply is far smaller. */
const MAX_ENCODED_CHARS = 24_000;
const MAX_DECODED_BYTES = 64 * 1024;

export const sipEchoSchema = z.object({
  v: z.literal(SIP_ECHO_VERSION),
  transport: z.enum(SIP_TRANSPORTS),
  /** The request's source as the reflector saw it: the NAT's public address and port. */
  source: z.object({
    address: z.string().check(z.minLength(1), z.maxLength(64)),
    port: z.int().check(z.minimum(0), z.maximum(65535)),
  }),
  /** The request exactly as received, as a latin1 byte string (see sip.ts). */
  request: z.string().check(z.maxLength(MAX_DECODED_BYTES)),
  /** The response as the reflector wrote it, minus the echo header itself. */
  canaries: z.object({
    startLine: z.string().check(z.maxLength(200)),
    /** Every header line of the response except `X-Algwatch-Echo`, in order. */
    headers: z.array(z.string().check(z.maxLength(4096))).check(z.maxLength(100)),
    /** The SDP body's lines. */
    sdp: z.array(z.string().check(z.maxLength(1024))).check(z.maxLength(100)),
  }),
});
export type SipEcho = z.infer<typeof sipEchoSchema>;

// A preset deflate dictionary (RFC 1950 FDICT idea, raw here) of text every SIP request and reply
// carries: it shrinks small messages by ~20%, which keeps an echoing INVITE reply under the
// ~1300-byte UDP size of RFC 3261 §18.1.1. Changing it is a protocol change: bump `v`.
const DICTIONARY = Buffer.from(
  [
    '{"v":1,"transport":"udp","source":{"address":"","port":},"request":"',
    '","canaries":{"startLine":"SIP/2.0 200 OK","headers":["',
    '"],"sdp":["v=0","o=- IN IP4 ","s=-","c=IN IP4 ","t=0 0","m=audio RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000","a=rtpmap:8 PCMA/8000","a=rtpmap:101 telephone-event/8000","a=fmtp:101 0-16","a=ptime:20","a=sendrecv',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, NOTIFY, REFER, INFO, UPDATE\\r\\n',
    'Max-Forwards: 70\\r\\nUser-Agent: algwatch\\r\\nContent-Type: application/sdp\\r\\nContent-Length: ',
    'Call-ID: \\r\\nCSeq: 1 INVITE\\r\\nCSeq: 1 REGISTER\\r\\nCSeq: 1 OPTIONS\\r\\nExpires: 60\\r\\n',
    'X-Algwatch-Probe: 1\\r\\nContact: <sip:algwatch@>;tag=From: <sip:algwatch@To: <sip:echo@',
    'Via: SIP/2.0/UDP ;branch=z9hG4bK;rport=;received=;transport=tcp;transport=tls',
    'INVITE sip:echo@ SIP/2.0\\r\\nREGISTER sip: SIP/2.0\\r\\nOPTIONS sip:echo@ SIP/2.0\\r\\n',
  ].join(''),
  'latin1',
);

/** encodeSipEcho writes the echo header's value: base64url(deflate(JSON)). */
export function encodeSipEcho(echo: SipEcho): string {
  const json = Buffer.from(JSON.stringify(echo), 'utf8');
  return deflateRawSync(json, { level: 9, dictionary: DICTIONARY }).toString('base64url');
}

/**
 * decodeSipEcho reads an echo header's value. It returns null when the value is not a valid echo
 * (wrong encoding, corrupt, too large, or failing the schema); it never throws.
 */
export function decodeSipEcho(value: string): SipEcho | null {
  const text = value.trim();
  if (text.length === 0 || text.length > MAX_ENCODED_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const json = inflateRawSync(Buffer.from(text, 'base64url'), { dictionary: DICTIONARY, maxOutputLength: MAX_DECODED_BYTES });
    return readSipEcho(JSON.parse(json.toString('utf8')));
  } catch {
    return null;
  }
}

/**
 * readSipEcho checks a parsed JSON value against sipEchoSchema by hand and returns the echo (known
 * keys only, as the schema's parse would) or null. The probe decodes three echoes per verdict, and
 * the schema's general machinery costs more than the rest of the decode; sip-echo.test.ts holds
 * the two to the same answers.
 */
export function readSipEcho(value: unknown): SipEcho | null {
  if (!isRecord(value) || value.v !== SIP_ECHO_VERSION) return null;
  const { transport, source, request, canaries } = value;
  if (!(SIP_TRANSPORTS as readonly unknown[]).includes(transport) || !isRecord(source) || !isRecord(canaries)) return null;
  const { address, port } = source;
  if (!isText(address, 64) || address.length < 1 || typeof port !== 'number' || !Number.isSafeInteger(port) || port < 0 || port > 65535) return null;
  if (!isText(request, MAX_DECODED_BYTES) || !isText(canaries.startLine, 200)) return null;
  const { headers, sdp } = canaries;
  if (!isTextList(headers, 100, 4096) || !isTextList(sdp, 100, 1024)) return null;
  return {
    v: SIP_ECHO_VERSION,
    transport: transport as SipEcho['transport'],
    source: { address, port },
    request,
    canaries: { startLine: canaries.startLine, headers: [...headers], sdp: [...sdp] },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length <= maxLength;
}

function isTextList(value: unknown, maxItems: number, maxLength: number): value is string[] {
  return Array.isArray(value) && value.length <= maxItems && value.every((item) => isText(item, maxLength));
}

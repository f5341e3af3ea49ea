/**
 * How the rtp-path probe and the reflector set up and close a test call over SIP:
 * - the agent's INVITE carries `X-Algwatch-Rtp: 1` and an SDP offer (its local RTP address, G.711);
 * - the reflector's 200 OK carries an SDP answer (its media port and a session nonce in
 *   `a=x-algwatch-nonce:`) and `X-Algwatch-Rtp-Session`: what SDP media address it received;
 * - the agent's BYE is answered with `X-Algwatch-Rtp-Session` again, now with what the reflector
 *   received of the agent's RTP and what it sent back on each path.
 * The header values are base64url JSON, so no address in them is plain text an ALG would rewrite.
 */
import * as z from './zod.js';
import { splitSdpLines } from './sip.js';

export const RTP_PROBE_HEADER = 'X-Algwatch-Rtp';
export const RTP_SESSION_HEADER = 'X-Algwatch-Rtp-Session';
/** RFC 8866 §5.13: private attributes; `x-` keeps it out of any registered name. */
export const RTP_NONCE_ATTRIBUTE = 'x-algwatch-nonce';

/** Why a reflector stream was not sent, or `sent`. */
export const RTP_STREAM_STATUSES = ['sent', 'not-sent-address-mismatch', 'not-sent-no-credit', 'not-sent-unproven'] as const;

const streamSchema = z.object({
  /** Packets sent on this path. */
  sent: z.int().check(z.nonnegative()),
  status: z.enum(RTP_STREAM_STATUSES),
  /** Where it was (or would have been) sent, address:port. */
  to: z.nullable(z.string().check(z.maxLength(60))),
});
export type RtpStreamReport = z.infer<typeof streamSchema>;

export const rtpSessionAnswerSchema = z.object({
  v: z.literal(1),
  /** The SDP offer's c=/m= media address:port as the reflector received it; null when absent or unreadable. */
  sdpSeen: z.nullable(z.string().check(z.maxLength(60))),
  /** The INVITE's source address:port as the reflector saw it. */
  signalling: z.string().check(z.maxLength(60)),
});
export type RtpSessionAnswer = z.infer<typeof rtpSessionAnswerSchema>;

export const rtpSessionReportSchema = z.object({
  v: z.literal(1),
  /** The agent's RTP as the reflector received it. */
  received: z.int().check(z.nonnegative()),
  jitterMs: z.number(),
  maxGapMs: z.number(),
  reordered: z.int().check(z.nonnegative()),
  /** Where the agent's proven RTP came from (the NAT's public side); null when none arrived. */
  mediaSource: z.nullable(z.string().check(z.maxLength(60))),
  sdp: streamSchema,
  symmetric: streamSchema,
  /** Pinhole-exposure packets sent from the alternate address and from another port. */
  pinhole: z.object({ altAddress: z.int().check(z.nonnegative()), otherPort: z.int().check(z.nonnegative()) }),
});
export type RtpSessionReport = z.infer<typeof rtpSessionReportSchema>;

/** encodeRtpSessionHeader writes a header value: base64url(JSON). */
export function encodeRtpSessionHeader(value: RtpSessionAnswer | RtpSessionReport): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** decodeRtpSessionHeader reads a header value with its schema; null when it is not one. */
export function decodeRtpSessionHeader<T>(value: string | undefined, schema: z.ZodMiniType<T>): T | null {
  if (!value || value.length > 4096) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(value.trim(), 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** SdpMedia is the first audio stream of an SDP body: its connection address and port. */
export interface SdpMedia {
  address: string;
  port: number;
  /** The answer's `a=x-algwatch-nonce:` value, when present. */
  nonce: string | null;
}

/**
 * sdpAudioMedia reads the first m=audio line's port and its connection address (the media-level
 * c= when there is one, else the session-level one, RFC 8866 §5.7). Null when either is missing or
 * malformed, or the port is 0 (a declined stream).
 */
export function sdpAudioMedia(body: string): SdpMedia | null {
  let sessionAddress: string | null = null;
  let mediaAddress: string | null = null;
  let port: number | null = null;
  let nonce: string | null = null;
  let inAudio = false;
  let seenMedia = false;
  for (const line of splitSdpLines(body)) {
    if (line.startsWith('m=')) {
      if (inAudio) break;
      seenMedia = true;
      const match = /^m=audio (\d{1,5}) /.exec(line);
      inAudio = match !== null;
      if (match) port = Number(match[1]);
    } else if (line.startsWith('c=')) {
      const match = /^c=IN IP[46] ([0-9A-Fa-f.:]{2,45})$/.exec(line.trim());
      if (!match) continue;
      if (!seenMedia) sessionAddress = match[1]!;
      else if (inAudio) mediaAddress = match[1]!;
    } else if (line.startsWith(`a=${RTP_NONCE_ATTRIBUTE}:`) && (inAudio || !seenMedia)) {
      const value = line.slice(RTP_NONCE_ATTRIBUTE.length + 3).trim();
      if (/^[0-9a-f]{16}$/.test(value)) nonce = value;
    }
  }
  const address = mediaAddress ?? sessionAddress;
  if (address === null || port === null || port < 1 || port > 65535) return null;
  return { address, port, nonce };
}

/** hostPort writes address:port, IPv6 in brackets. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

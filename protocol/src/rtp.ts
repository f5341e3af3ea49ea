/**
 * RTP as the rtp-path probe and the reflector speak it: real RFC 3550 §5.1 headers (version 2,
 * payload type 0 = PCMU, sequence number, 8 kHz timestamp, SSRC) carrying G.711-sized payloads whose
 * first bytes mark the packet as algwatch's (magic, stream kind, the session nonce, timing echo).
 * The rest of the payload is PCMU silence (0xFF), so the packet is the size a phone's would be.
 */

/** RFC 3550 §5.1: the fixed header is 12 bytes with no CSRCs. */
export const RTP_HEADER_BYTES = 12;
/** RFC 3551 §6: static payload type 0 is PCMU (G.711 µ-law), 8 kHz clock. */
export const RTP_PAYLOAD_TYPE_PCMU = 0;
export const RTP_CLOCK_HZ = 8_000;
/** G.711 at 20 ms: 160 samples of one byte each (RFC 3551 §4.5.14). */
export const G711_20MS_PAYLOAD_BYTES = 160;
/** The marker fields take 28 bytes; smaller payloads cannot carry them. */
export const MIN_RTP_PAYLOAD_BYTES = 32;
export const MAX_RTP_PAYLOAD_BYTES = 320;

const MAGIC = Buffer.from('AWRT', 'latin1');
const MARKER_VERSION = 1;
/** PCMU's code for silence (µ-law 0xFF is zero amplitude). */
const PCMU_SILENCE = 0xff;
export const RTP_NONCE_BYTES = 8;

/**
 * Who sent a packet and along which path: the agent's stream, the reflector's stream to the SDP
 * address, to the symmetric (comedia) source, one stream for both when they are the same, and the
 * pinhole-exposure packets from the reflector's alternate address and from another port.
 */
export const RTP_STREAM_KINDS = ['agent', 'sdp', 'symmetric', 'sdp-symmetric', 'pinhole-alt-address', 'pinhole-other-port'] as const;
export type RtpStreamKind = (typeof RTP_STREAM_KINDS)[number];

/** RtpPacket is one decoded algwatch RTP packet. */
export interface RtpPacket {
  /** RFC 3550 marker bit: set on the first packet of a talk spurt. */
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  kind: RtpStreamKind;
  /** The session nonce from the reflector's SDP answer, hex. */
  nonce: string;
  /** Agent packets: the agent's send time (ms, its own clock). Reflector packets: the echoed agent send time, or 0. */
  sentAtMs: number;
  /** Reflector packets: how long the reflector held the echoed agent packet before this send (ms). */
  heldMs: number;
  /** Total bytes on the wire above UDP (header + payload). */
  bytes: number;
}

export type RtpPacketFields = Omit<RtpPacket, 'bytes' | 'payloadType'> & { payloadBytes: number };

/** encodeRtpPacket writes the header and a payload of payloadBytes (clamped to the allowed range). */
export function encodeRtpPacket(fields: RtpPacketFields): Buffer {
  const payloadBytes = Math.min(MAX_RTP_PAYLOAD_BYTES, Math.max(MIN_RTP_PAYLOAD_BYTES, fields.payloadBytes));
  const packet = Buffer.alloc(RTP_HEADER_BYTES + payloadBytes, PCMU_SILENCE);
  packet[0] = 0x80; // V=2, P=0, X=0, CC=0
  packet[1] = (fields.marker ? 0x80 : 0) | RTP_PAYLOAD_TYPE_PCMU;
  packet.writeUInt16BE(fields.sequence & 0xffff, 2);
  packet.writeUInt32BE(fields.timestamp >>> 0, 4);
  packet.writeUInt32BE(fields.ssrc >>> 0, 8);
  const payload = packet.subarray(RTP_HEADER_BYTES);
  MAGIC.copy(payload, 0);
  payload[4] = MARKER_VERSION;
  payload[5] = RTP_STREAM_KINDS.indexOf(fields.kind);
  payload.writeUInt16BE(0, 6);
  Buffer.from(fields.nonce, 'hex').copy(payload, 8, 0, RTP_NONCE_BYTES);
  payload.writeDoubleBE(fields.sentAtMs, 16);
  payload.writeUInt32BE(Math.min(0xffffffff, Math.max(0, Math.round(fields.heldMs * 1000))), 24);
  return packet;
}

/**
 * decodeRtpPacket reads an algwatch RTP packet; null for anything else (not RTP version 2, with
 * padding, extensions or CSRCs, a payload type other than PCMU, or without algwatch's marker).
 */
export function decodeRtpPacket(packet: Uint8Array): RtpPacket | null {
  if (packet.length < RTP_HEADER_BYTES + MIN_RTP_PAYLOAD_BYTES || packet.length > RTP_HEADER_BYTES + MAX_RTP_PAYLOAD_BYTES) return null;
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  if (bytes[0] !== 0x80) return null;
  const payloadType = bytes[1]! & 0x7f;
  if (payloadType !== RTP_PAYLOAD_TYPE_PCMU) return null;
  const payload = bytes.subarray(RTP_HEADER_BYTES);
  if (!payload.subarray(0, 4).equals(MAGIC) || payload[4] !== MARKER_VERSION) return null;
  const kind = RTP_STREAM_KINDS[payload[5]!];
  if (kind === undefined) return null;
  const sentAtMs = payload.readDoubleBE(16);
  if (!Number.isFinite(sentAtMs)) return null;
  return {
    marker: (bytes[1]! & 0x80) !== 0,
    payloadType,
    sequence: bytes.readUInt16BE(2),
    timestamp: bytes.readUInt32BE(4),
    ssrc: bytes.readUInt32BE(8),
    kind,
    nonce: payload.subarray(8, 8 + RTP_NONCE_BYTES).toString('hex'),
    sentAtMs,
    heldMs: payload.readUInt32BE(24) / 1000,
    bytes: packet.length,
  };
}

/** rtpTimestampAt is the 8 kHz RTP timestamp of a moment `elapsedMs` after the stream's start. */
export function rtpTimestampAt(initial: number, elapsedMs: number): number {
  return (initial + Math.round((elapsedMs * RTP_CLOCK_HZ) / 1000)) >>> 0;
}

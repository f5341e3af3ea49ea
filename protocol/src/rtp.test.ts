import { describe, expect, it } from 'vitest';
import { decodeRtpPacket, encodeRtpPacket, rtpTimestampAt, RTP_HEADER_BYTES } from './rtp.js';

const fields = {
  marker: true, sequence: 0xfffe, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, kind: 'symmetric' as const,
  nonce: '0123456789abcdef', sentAtMs: 1234.5, heldMs: 2.25, payloadBytes: 160,
};

describe('algwatch RTP packets', () => {
  it('writes an RFC 3550 fixed header: version 2, no padding, extension or CSRC, marker and PT 0 (PCMU), seq, timestamp, SSRC', () => {
    const packet = encodeRtpPacket(fields);
    expect(packet).toHaveLength(RTP_HEADER_BYTES + 160);
    expect([...packet.subarray(0, 12)]).toEqual([0x80, 0x80, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xf0, 0xde, 0xad, 0xbe, 0xef]);
    // The rest of the payload is µ-law silence, as a phone sends between words.
    expect(packet.at(-1)).toBe(0xff);
  });

  it('reads back every field it wrote', () => {
    const { payloadBytes: _, ...written } = fields;
    expect(decodeRtpPacket(encodeRtpPacket(fields))).toEqual({ ...written, payloadType: 0, bytes: 172 });
  });

  it('refuses what is not an algwatch packet: another version, another payload type, no marker, too short', () => {
    const packet = encodeRtpPacket(fields);
    const changed = (at: number, value: number) => { const copy = Buffer.from(packet); copy[at] = value; return copy; };
    expect(decodeRtpPacket(changed(0, 0x40))).toBeNull();
    expect(decodeRtpPacket(changed(1, 8))).toBeNull();
    expect(decodeRtpPacket(changed(12, 0x42))).toBeNull();
    expect(decodeRtpPacket(packet.subarray(0, 30))).toBeNull();
    expect(decodeRtpPacket(Buffer.from('INVITE sip:x SIP/2.0\r\n\r\n'))).toBeNull();
  });

  it('advances the timestamp at 8 kHz: 160 per 20 ms, wrapping at 2^32', () => {
    expect(rtpTimestampAt(1000, 20)).toBe(1160);
    expect(rtpTimestampAt(0xffffffff, 20)).toBe(159);
  });
});

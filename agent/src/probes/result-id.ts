/**
 * newResultId makes a result's id: a UUID version 7 (RFC 9562 §5.7), 48 bits of Unix milliseconds
 * then 74 random bits. Time-ordered ids land at the end of the server's "seen results" index
 * instead of at random pages of it, which made marking a batch seen about three times cheaper.
 */
import { randomFillSync } from 'node:crypto';

const bytes = new Uint8Array(16);

export function newResultId(now = Date.now()): string {
  randomFillSync(bytes, 6, 10);
  // 48-bit big-endian timestamp (two writes: JavaScript bit operators are 32-bit).
  const high = Math.floor(now / 2 ** 32);
  const low = now >>> 0;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = (low >>> 24) & 0xff;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10xx (RFC 9562 §4.1)
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

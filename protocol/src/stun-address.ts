/**
 * IP address text <-> bytes for STUN address attributes. Written here rather than taken from a
 * package: the only widespread one (`ip@1`) carries a published advisory.
 */
import { isIPv6 } from 'node:net';

/** parseIp returns the 4 or 16 bytes of an IPv4 or IPv6 address, or null when it is not one. */
export function parseIp(text: string): Buffer | null {
  const v4 = Buffer.alloc(4);
  if (writeIpv4(text, v4, 0)) return v4;
  if (!isIPv6(text)) return null;
  let groups = text.replace(/%.*$/, ''); // a zone id (fe80::1%eth0) never goes on the wire
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (embedded) {
    const v4 = Buffer.from(embedded[1]!.split('.').map(Number));
    groups = groups.slice(0, -embedded[1]!.length) + `${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', tail] = groups.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headParts.length - tailParts.length).fill('0');
  const all = [...headParts, ...zeros, ...tailParts];
  if (all.length !== 8) return null;
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/**
 * writeIpv4 writes the 4 bytes of a dotted IPv4 address at `offset` and returns true, or returns
 * false (having written up to 3 bytes) when `text` is not one. It accepts exactly what
 * `net.isIPv4` accepts (four decimal parts 0-255 without leading zeros) but without a regular
 * expression or an allocation: the STUN reflector writes its peer's address into every answer.
 */
export function writeIpv4(text: string, target: Uint8Array, offset: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e) {
      if (digits === 0 || part === 3) return false;
      target[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39) {
      if (digits > 0 && value === 0) return false; // a leading zero ("01") is not IPv4 text
      value = value * 10 + (code - 0x30);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  target[offset + 3] = value;
  return true;
}

/** formatIp writes 4 bytes as dotted IPv4 and 16 bytes as RFC 5952 text (lowercase, longest zero run as ::). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

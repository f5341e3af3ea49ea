import { isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIp, parseIp, writeIpv4 } from './stun-address.js';

// Texts at the edges of IPv4 syntax: leading zeros, out-of-range parts, wrong part counts, other digits.
const EDGE_CASES = [
  '0.0.0.0', '255.255.255.255', '192.0.2.1', '1.2.3.4', '01.2.3.4', '1.2.3.04', '00.0.0.0', '1.2.3.256', '256.1.1.1',
  '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '', '1.2.3.4 ', ' 1.2.3.4', '+1.2.3.4', '1e1.2.3.4', '١.2.3.4',
  '1000.1.1.1', '::1', '::ffff:1.2.3.4', 'localhost',
];

describe('writeIpv4', () => {
  it('accepts exactly the texts net.isIPv4 accepts, on edge cases and random dotted texts', () => {
    const texts = [...EDGE_CASES];
    const part = () => [String(Math.floor(Math.random() * 300)), `0${Math.floor(Math.random() * 10)}`, ''][Math.floor(Math.random() * 3)]!;
    for (let i = 0; i < 2000; i++) texts.push(Array.from({ length: 3 + Math.floor(Math.random() * 3) }, part).join('.'));
    for (const text of texts) {
      const bytes = new Uint8Array(4);
      expect([text, writeIpv4(text, bytes, 0)]).toEqual([text, isIPv4(text)]);
      if (isIPv4(text)) expect(formatIp(bytes)).toBe(text);
    }
  });

  it('writes the address at the offset it is given and leaves the bytes around it alone', () => {
    const bytes = Buffer.alloc(8, 0xee);
    expect(writeIpv4('192.0.2.1', bytes, 2)).toBe(true);
    expect(bytes.toString('hex')).toBe('eeeec0000201eeee');
  });
});

describe('parseIp', () => {
  it('reads IPv4 and IPv6 text and refuses anything else', () => {
    expect(parseIp('192.0.2.1')?.toString('hex')).toBe('c0000201');
    expect(parseIp('2001:db8::1')?.toString('hex')).toBe('20010db8000000000000000000000001');
    expect(parseIp('::ffff:192.0.2.1')?.toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(parseIp('01.2.3.4')).toBeNull();
    expect(parseIp('example.net')).toBeNull();
  });
});

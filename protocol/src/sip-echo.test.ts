import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeSipEcho, encodeSipEcho, readSipEcho, sipEchoSchema, type SipEcho } from './sip-echo.js';

const ECHO: SipEcho = {
  v: 1,
  transport: 'udp',
  source: { address: '203.0.113.7', port: 40123 },
  request: 'OPTIONS sip:echo@198.51.100.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport\r\nX-Latin: caf\xe9\r\n\r\n',
  canaries: {
    startLine: 'SIP/2.0 200 OK',
    headers: ['Via: SIP/2.0/UDP 203.0.113.7:40123;branch=z9hG4bK1;rport=40123;received=203.0.113.7', 'Contact: <sip:algwatch@203.0.113.7:40123>'],
    sdp: ['v=0', 'c=IN IP4 203.0.113.7'],
  },
};

describe('sip echo', () => {
  it('round-trips an echo, the request bytes exactly', () => {
    expect(decodeSipEcho(encodeSipEcho(ECHO))).toEqual(ECHO);
  });

  it('hides every address from text matching: an ALG cannot rewrite the report', () => {
    const encoded = encodeSipEcho(ECHO);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const text of ['203.0.113.7', '10.0.0.5', '40123', '5060']) expect(encoded).not.toContain(text);
  });

  it('returns null for garbage, a corrupted value, and a valid deflate of a wrong shape', () => {
    const encoded = encodeSipEcho(ECHO);
    expect(decodeSipEcho('')).toBeNull();
    expect(decodeSipEcho('not base64 !')).toBeNull();
    expect(decodeSipEcho(encoded.slice(0, encoded.length / 2))).toBeNull();
    expect(decodeSipEcho(`${encoded.slice(0, 10)}AAAA${encoded.slice(14)}`)).toBeNull();
    expect(decodeSipEcho(deflateRawSync(Buffer.from('{"v":1}')).toString('base64url'))).toBeNull();
    expect(decodeSipEcho(encodeSipEcho({ ...ECHO, v: 2 } as unknown as SipEcho))).toBeNull();
  });

  it('refuses a decompression bomb instead of inflating it', () => {
    const bomb = deflateRawSync(Buffer.alloc(10_000_000, 0x20)).toString('base64url');
    expect(decodeSipEcho(bomb)).toBeNull();
  });

  it('accepts and refuses exactly what the echo schema does, edge by edge', () => {
    // Each variant changes one place of a valid echo to a value at or past an edge of the schema.
    const values: unknown[] = [
      undefined, null, 0, -0, 1, 1.5, -1, 65535, 65536, 2 ** 53 + 2, 'udp', 'UDP', 'tls', '', 'x', 'x'.repeat(64), 'x'.repeat(65),
      'x'.repeat(200), 'x'.repeat(201), 'x'.repeat(1024), 'x'.repeat(1025), 'x'.repeat(4096), 'x'.repeat(4097), [], ['v=0'],
      Array(100).fill('a'), Array(101).fill('a'), ['a', 1], {}, { address: 'a', port: 1 }, true,
    ];
    const paths = [[], ['v'], ['transport'], ['source'], ['source', 'address'], ['source', 'port'], ['request'], ['canaries'],
      ['canaries', 'startLine'], ['canaries', 'headers'], ['canaries', 'sdp'], ['extra'], ['source', 'extra']];
    let compared = 0;
    for (const path of paths) {
      for (const value of values) {
        const candidate: unknown = path.length === 0 ? value : structuredClone(ECHO);
        if (path.length > 0) {
          let parent = candidate as Record<string, unknown>;
          for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
          parent[path[path.length - 1]!] = value;
        }
        const parsed = sipEchoSchema.safeParse(candidate);
        expect([path.join('.'), readSipEcho(candidate)]).toEqual([path.join('.'), parsed.success ? parsed.data : null]);
        compared++;
      }
    }
    expect(compared).toBe(paths.length * values.length);
  });
});

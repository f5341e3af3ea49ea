import { describe, expect, it } from 'vitest';
import { STUN_ATTR, STUN_METHOD_BINDING, crc32, decodeStun, encodeStun, formatIp, newTransactionId, parseIp, stunIntegrityValid } from './stun.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// RFC 5769 (Test Vectors for STUN) §2.2 and §2.3, typed in from the RFC. Both carry a
// MESSAGE-INTEGRITY (short-term password "VOkJxbRl1RmTxUk/WvJxBt") that stunIntegrityValid checks,
// and a FINGERPRINT that the decoder checks. SOFTWARE is padded with spaces on purpose.
const TRANSACTION_ID = hex('b7 e7 a7 01 bc 34 d6 86 fa 87 df ae');
const RFC5769_IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
const RFC5769_IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

describe('decodeStun on the RFC 5769 vectors', () => {
  it('reads the IPv4 sample response: 192.0.2.1:32853, SOFTWARE and a valid FINGERPRINT', () => {
    const result = decodeStun(RFC5769_IPV4_RESPONSE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.message.method).toBe(STUN_METHOD_BINDING);
    expect(result.message.class).toBe('success');
    expect(result.message.transactionId).toEqual(TRANSACTION_ID);
    expect(result.message.xorMappedAddress).toEqual({ address: '192.0.2.1', port: 32853 });
    expect(result.message.software).toBe('test vector');
    expect(result.message.fingerprint).toBe(true);
    expect(result.message.attributes.map((attribute) => attribute.type)).toEqual([
      STUN_ATTR.SOFTWARE,
      STUN_ATTR.XOR_MAPPED_ADDRESS,
      STUN_ATTR.MESSAGE_INTEGRITY,
      STUN_ATTR.FINGERPRINT,
    ]);
    expect(result.message.unknownRequired).toEqual([]);
  });

  it('reads the IPv6 sample response: [2001:db8:1234:5678:11:2233:4455:6677]:32853', () => {
    const result = decodeStun(RFC5769_IPV6_RESPONSE);
    expect(result.ok && result.message.xorMappedAddress).toEqual({ address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 });
  });

  it('encodes XOR-MAPPED-ADDRESS to the same bytes as the RFC for IPv4 and IPv6', () => {
    for (const [vector, address, attributeHex] of [
      [RFC5769_IPV4_RESPONSE, '192.0.2.1', '00 20 00 08 00 01 a1 47 e1 12 a6 43'],
      [RFC5769_IPV6_RESPONSE, '2001:db8:1234:5678:11:2233:4455:6677', '00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9'],
    ] as const) {
      const encoded = encodeStun(
        { method: STUN_METHOD_BINDING, class: 'success', transactionId: TRANSACTION_ID },
        { xorMappedAddress: { address, port: 32853 } },
        { fingerprint: false },
      );
      expect(encoded.subarray(20).toString('hex')).toBe(hex(attributeHex).toString('hex'));
      expect(vector.includes(encoded.subarray(20))).toBe(true);
    }
  });

  it('rejects the IPv4 vector with one flipped bit as a bad fingerprint', () => {
    const damaged = Buffer.from(RFC5769_IPV4_RESPONSE);
    damaged[30]! ^= 0x01; // inside SOFTWARE
    expect(decodeStun(damaged)).toEqual({ ok: false, error: 'bad-fingerprint' });
  });
});

describe('encodeStun and decodeStun', () => {
  const header = { method: STUN_METHOD_BINDING, class: 'request' as const, transactionId: newTransactionId() };

  it('round-trips every attribute algwatch uses', () => {
    const attributes = {
      xorMappedAddress: { address: '203.0.113.7', port: 40000 },
      mappedAddress: { address: '2001:db8::1', port: 1 },
      responseOrigin: { address: '198.51.100.1', port: 3478 },
      otherAddress: { address: '198.51.100.2', port: 3479 },
      errorCode: { code: 420, reason: 'Unknown Attribute' },
      unknownAttributes: [0x0003, 0x0024],
      changeRequest: { changeIp: true, changePort: false },
      responsePort: 5555,
      responseDelayMs: 123_456,
      paddingBytes: 6,
      software: 'algwatch ü',
    };
    const encoded = encodeStun(header, attributes);
    expect(encoded.length % 4).toBe(0);
    const result = decodeStun(encoded);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.message).toMatchObject({ ...attributes, class: 'request', fingerprint: true, transactionId: header.transactionId });
  });

  it('writes the class bits so a Binding success response has type 0x0101 and an error 0x0111', () => {
    expect(encodeStun({ ...header, class: 'success' }).readUInt16BE(0)).toBe(0x0101);
    expect(encodeStun({ ...header, class: 'error' }).readUInt16BE(0)).toBe(0x0111);
    expect(encodeStun({ ...header, class: 'indication' }).readUInt16BE(0)).toBe(0x0011);
  });

  it('lists comprehension-required attributes it does not know and ignores optional ones', () => {
    const request = encodeStun(header, {}, { fingerprint: false });
    const extra = hex('00 24 00 04 6e 00 01 ff  80 29 00 08 93 2f f9 b1 51 26 3b 36'); // PRIORITY, ICE-CONTROLLED
    const message = Buffer.concat([request, extra]);
    message.writeUInt16BE(extra.length, 2);
    const result = decodeStun(message);
    expect(result.ok && result.message.unknownRequired).toEqual([0x0024]);
  });

  it('returns an error, never throws, for malformed datagrams', () => {
    const good = encodeStun(header, { software: 'x' });
    const cases: Array<[Buffer, string]> = [
      [Buffer.alloc(0), 'too-short'],
      [good.subarray(0, 19), 'too-short'],
      [Buffer.from('INVITE sip:a@b SIP/2.0\r\n\r\n'), 'not-stun'],
      [Buffer.concat([good.subarray(0, 4), Buffer.from([1, 2, 3, 4]), good.subarray(8)]), 'bad-cookie'],
      [good.subarray(0, good.length - 4), 'length-mismatch'],
    ];
    const truncated = Buffer.from(good);
    truncated.writeUInt16BE(200, 22); // SOFTWARE claims 200 bytes
    cases.push([truncated, 'truncated-attribute']);
    const badAddress = encodeStun(header, { xorMappedAddress: { address: '192.0.2.1', port: 1 } }, { fingerprint: false });
    badAddress[25] = 9; // family 9
    cases.push([badAddress, 'bad-attribute']);
    const afterFingerprint = Buffer.concat([good, hex('80 22 00 00')]);
    afterFingerprint.writeUInt16BE(afterFingerprint.length - 20, 2);
    cases.push([afterFingerprint, 'bad-fingerprint']); // the length changed, so the CRC no longer matches
    for (const [bytes, error] of cases) expect(decodeStun(bytes)).toEqual({ ok: false, error });
    for (let i = 0; i < 2000; i++) {
      const noise = Buffer.from(good);
      noise[Math.floor(Math.random() * noise.length)] = Math.floor(Math.random() * 256);
      expect(() => decodeStun(noise.subarray(0, Math.floor(Math.random() * (noise.length + 1))))).not.toThrow();
    }
  });
});

describe('IP address text and bytes', () => {
  it('parses and prints IPv6 in RFC 5952 form', () => {
    for (const [text, canonical] of [
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::1', '::1'],
      ['::', '::'],
      ['fe80::1:2', 'fe80::1:2'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ]) {
      const bytes = parseIp(text!);
      expect(bytes?.length).toBe(16);
      expect(formatIp(bytes!)).toBe(canonical);
    }
    expect(parseIp('192.0.2.300')).toBeNull();
    expect(parseIp('example.net')).toBeNull();
  });

  it('computes the CRC-32 of "123456789" as 0xcbf43926', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('MESSAGE-INTEGRITY (RFC 8489 §14.5)', () => {
  const password = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt', 'utf8');

  it('verifies the RFC 5769 sample responses with their short-term password and refuses another key', () => {
    for (const vector of [RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE]) {
      const result = decodeStun(vector);
      if (!result.ok) throw new Error(result.error);
      expect(stunIntegrityValid(vector, result.message, password)).toBe(true);
      expect(stunIntegrityValid(vector, result.message, Buffer.from('another password'))).toBe(false);
    }
  });

  it('signs a request with USERNAME and MESSAGE-INTEGRITY before FINGERPRINT; a changed byte fails the check', () => {
    const key = Buffer.alloc(32, 7);
    const packet = encodeStun({ method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId() }, { paddingBytes: 40, username: 'aw1:abcdefghijklmnop:1795640000' }, { integrityKey: key });
    const result = decodeStun(packet);
    if (!result.ok) throw new Error(result.error);
    expect(result.message.username).toBe('aw1:abcdefghijklmnop:1795640000');
    expect(result.message.attributes.map((attribute) => attribute.type).slice(-3)).toEqual([STUN_ATTR.USERNAME, STUN_ATTR.MESSAGE_INTEGRITY, STUN_ATTR.FINGERPRINT]);
    expect(stunIntegrityValid(packet, result.message, key)).toBe(true);

    const unsigned = decodeStun(encodeStun({ method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId() }));
    expect(unsigned.ok && stunIntegrityValid(packet, unsigned.message, key)).toBe(false);
    // Change a PADDING byte and fix the FINGERPRINT up: only MESSAGE-INTEGRITY can tell.
    const forged = Buffer.from(packet);
    forged[28] = 1;
    forged.writeUInt32BE((crc32(forged.subarray(0, forged.length - 8)) ^ 0x5354554e) >>> 0, forged.length - 4);
    const decodedForgery = decodeStun(forged);
    if (!decodedForgery.ok) throw new Error(decodedForgery.error);
    expect(stunIntegrityValid(forged, decodedForgery.message, key)).toBe(false);
  });
});

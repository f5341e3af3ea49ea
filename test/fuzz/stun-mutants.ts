/**
 * stunMutant builds one fuzz datagram from a well-formed STUN Binding request (RFC 8489 §5) and
 * then, most of the time, breaks it the ways a scanner, a broken NAT or an attacker would: flipped
 * bits, truncation, a lying message or attribute length, a wrong magic cookie, hundreds of tiny
 * attributes. Whether the result is still a valid request is decided by the oracle from the bytes
 * (see reply-oracle.ts), never from the strategy's name: a bit flip can land in the transaction id.
 */
import { STUN_ATTR, STUN_HEADER_BYTES, STUN_METHOD_BINDING, TRANSACTION_ID_BYTES, encodeStun, messageType, type StunAttributes } from '@algwatch/protocol/stun';
import type { SeededRandom } from './seeded-random.js';

export const STUN_STRATEGIES = {
  intact: 12,
  'bit-flips': 14,
  truncated: 10,
  'length-lie': 10,
  'attribute-length-lie': 12,
  'bad-cookie': 6,
  'many-attributes': 8,
  'trailing-junk': 6,
  'other-class-or-method': 8,
  'attribute-after-fingerprint': 4,
  'bad-known-attribute': 6,
  'random-body': 4,
} as const;
export type StunStrategy = keyof typeof STUN_STRATEGIES;

export interface StunMutant {
  bytes: Buffer;
  strategy: StunStrategy;
}

/** stunMutant returns one datagram; its transaction id is fresh (drawn from `random`). */
export function stunMutant(random: SeededRandom): StunMutant {
  const strategy = random.weighted(STUN_STRATEGIES);
  const transactionId = random.bytes(TRANSACTION_ID_BYTES);
  const request = (attributes: StunAttributes = baseAttributes(random)) =>
    encodeStun({ method: STUN_METHOD_BINDING, class: 'request', transactionId }, attributes, { fingerprint: random.chance(0.6) });
  switch (strategy) {
    case 'intact':
      return { strategy, bytes: request() };
    case 'bit-flips': {
      const bytes = request();
      for (let flips = random.int(1, 8); flips > 0; flips--) bytes[random.int(0, bytes.length - 1)]! ^= 1 << random.int(0, 7);
      return { strategy, bytes };
    }
    case 'truncated': {
      const bytes = request();
      return { strategy, bytes: bytes.subarray(0, random.int(0, bytes.length - 1)) };
    }
    case 'length-lie': {
      const bytes = request();
      const honest = bytes.readUInt16BE(2);
      const lie = random.pick([0, 4, honest + 4, Math.max(0, honest - 4), honest + 1, 0xfffc, 0xffff, random.int(0, 0xffff)]);
      bytes.writeUInt16BE(lie === honest ? honest + 4 : lie, 2);
      return { strategy, bytes };
    }
    case 'attribute-length-lie':
      return { strategy, bytes: lieAboutAnAttributeLength(random, request(withSoftware(baseAttributes(random)))) };
    case 'bad-cookie': {
      const bytes = request();
      bytes.writeUInt32BE(random.pick([0, 0x2112a443, 0x42a41221, random.int(0, 0xffffffff)]) >>> 0, 4);
      return { strategy, bytes };
    }
    case 'many-attributes':
      return { strategy, bytes: manyAttributes(random, transactionId) };
    case 'trailing-junk':
      return { strategy, bytes: Buffer.concat([request(), random.bytes(random.int(1, 64))]) };
    case 'other-class-or-method': {
      const bytes = request();
      const cls = random.pick(['indication', 'success', 'error', 'request'] as const);
      const method = cls === 'request' ? random.pick([0x002, 0x003, 0x004, 0x009, 0x00a, 0xfff]) : random.pick([STUN_METHOD_BINDING, 0x003]);
      bytes.writeUInt16BE(messageType(method, cls), 0);
      if (random.chance(0.2)) bytes[0]! |= 0xc0; // RFC 8489 §5: the top two bits must be zero
      return { strategy, bytes };
    }
    case 'attribute-after-fingerprint': {
      const bytes = encodeStun({ method: STUN_METHOD_BINDING, class: 'request', transactionId }, {}, { fingerprint: true });
      const extra = Buffer.from([0x80, 0x22, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64]); // SOFTWARE "abcd"
      const out = Buffer.concat([bytes, extra]);
      out.writeUInt16BE(out.length - STUN_HEADER_BYTES, 2);
      return { strategy, bytes: out };
    }
    case 'bad-known-attribute':
      return { strategy, bytes: withBadKnownAttribute(random, transactionId) };
    case 'random-body': {
      // A valid header in front of random attribute bytes: gets past the cookie check.
      const body = random.bytes(random.int(0, 120) * 4);
      const header = Buffer.alloc(STUN_HEADER_BYTES);
      header.writeUInt16BE(messageType(STUN_METHOD_BINDING, 'request'), 0);
      header.writeUInt16BE(body.length, 2);
      header.writeUInt32BE(0x2112a442, 4);
      transactionId.copy(header, 8);
      return { strategy, bytes: Buffer.concat([header, body]) };
    }
  }
}

/** baseAttributes are what a real client might put in a Binding request (never a delay or RESPONSE-PORT). */
function baseAttributes(random: SeededRandom): StunAttributes {
  const attributes: StunAttributes = {};
  if (random.chance(0.3)) attributes.software = 'algwatch-agent fuzz';
  // RFC 5780 §7.2: change-port is answered from the alternate port; change-IP gets a 420 here
  // (the server under test has no alternate address).
  if (random.chance(0.2)) attributes.changeRequest = { changeIp: random.chance(0.3), changePort: random.chance(0.5) };
  if (random.chance(0.1)) attributes.paddingBytes = random.int(0, 100) * 4; // RFC 5780 §7.6
  return attributes;
}

function withSoftware(attributes: StunAttributes): StunAttributes {
  return { ...attributes, software: 'algwatch-agent fuzz' };
}

/** lieAboutAnAttributeLength rewrites one attribute's 16-bit length (RFC 8489 §14) to a wrong value. */
function lieAboutAnAttributeLength(random: SeededRandom, bytes: Buffer): Buffer {
  const offsets: number[] = [];
  for (let offset = STUN_HEADER_BYTES; offset + 4 <= bytes.length; offset += 4 + ((bytes.readUInt16BE(offset + 2) + 3) & ~3)) offsets.push(offset);
  const offset = random.pick(offsets);
  const honest = bytes.readUInt16BE(offset + 2);
  const lie = random.pick([honest + 1, honest + 4, Math.max(0, honest - 1), 0, 0xffff, random.int(0, 0xffff)]);
  bytes.writeUInt16BE(lie === honest ? honest + 4 : lie, offset + 2);
  return bytes;
}

/** manyAttributes packs up to ~490 empty attributes into one request: parsing cost, not size. */
function manyAttributes(random: SeededRandom, transactionId: Buffer): Buffer {
  const count = random.int(100, 490);
  const body = Buffer.alloc(count * 4);
  const requiredUnknowns = random.chance(0.4);
  for (let i = 0; i < count; i++) {
    // ≥ 0x8000 are comprehension-optional and ignored; unknown < 0x8000 make the answer a 420.
    const type = requiredUnknowns && random.chance(0.5) ? random.int(0x0040, 0x7fff) : random.int(0x8040, 0xbfff);
    body.writeUInt16BE(type === STUN_ATTR.ALGWATCH_RESPONSE_DELAY ? 0x8041 : type, i * 4);
  }
  const header = Buffer.alloc(STUN_HEADER_BYTES);
  header.writeUInt16BE(messageType(STUN_METHOD_BINDING, 'request'), 0);
  header.writeUInt16BE(body.length, 2);
  header.writeUInt32BE(0x2112a442, 4);
  transactionId.copy(header, 8);
  const bytes = Buffer.concat([header, body]);
  if (random.chance(0.3)) bytes.writeUInt16BE(random.int(0, 0xffff), 2);
  return bytes;
}

/** withBadKnownAttribute carries a known attribute whose value is malformed (wrong size or family). */
function withBadKnownAttribute(random: SeededRandom, transactionId: Buffer): Buffer {
  const [type, value] = random.pick([
    [STUN_ATTR.CHANGE_REQUEST, Buffer.alloc(random.int(0, 3))],
    [STUN_ATTR.XOR_MAPPED_ADDRESS, Buffer.from([0, 7, 0, 1, 1, 2, 3, 4])],
    [STUN_ATTR.MAPPED_ADDRESS, Buffer.alloc(3)],
    [STUN_ATTR.ERROR_CODE, Buffer.from([0, 0, 9, 200])],
    [STUN_ATTR.UNKNOWN_ATTRIBUTES, Buffer.alloc(3)],
    [STUN_ATTR.FINGERPRINT, Buffer.alloc(4)],
  ] as const);
  const attribute = Buffer.alloc(4 + ((value.length + 3) & ~3));
  attribute.writeUInt16BE(type, 0);
  attribute.writeUInt16BE(value.length, 2);
  value.copy(attribute, 4);
  const header = Buffer.alloc(STUN_HEADER_BYTES);
  header.writeUInt16BE(messageType(STUN_METHOD_BINDING, 'request'), 0);
  header.writeUInt16BE(attribute.length, 2);
  header.writeUInt32BE(0x2112a442, 4);
  transactionId.copy(header, 8);
  return Buffer.concat([header, attribute]);
}

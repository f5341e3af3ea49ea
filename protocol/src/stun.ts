/**
 * STUN message codec (RFC 8489, RFC 5389 wire format, RFC 5780 NAT-behaviour attributes) over byte
 * buffers. `decodeStun` never throws: anything malformed comes back as a typed error, because the
 * reflector reads unauthenticated UDP from anywhere. MESSAGE-INTEGRITY (RFC 8489 §14.5, HMAC-SHA1)
 * is written with `integrityKey` and checked with stunIntegrityValid: agents sign their probes with a
 * key of their site (probe-signature.ts) so the reflector can pay for them from the site's budget.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { formatIp, parseIp, writeIpv4 } from './stun-address.js';

export { formatIp, parseIp } from './stun-address.js';

/** RFC 8489 §5: fixed value in every message; tells STUN apart from other protocols on the port. */
export const MAGIC_COOKIE = 0x2112a442;
export const STUN_HEADER_BYTES = 20;
export const TRANSACTION_ID_BYTES = 12;
/** RFC 8489 §14.7: FINGERPRINT is the CRC-32 of the message XOR-ed with this. */
const FINGERPRINT_XOR = 0x5354554e;

export const STUN_METHOD_BINDING = 0x001;

export type StunClass = 'request' | 'indication' | 'success' | 'error';
const CLASS_BITS: Record<StunClass, number> = { request: 0b00, indication: 0b01, success: 0b10, error: 0b11 };
const CLASSES: StunClass[] = ['request', 'indication', 'success', 'error'];

/** STUN_ATTR lists the attribute types this codec knows (RFC 8489 §18.3, RFC 5780 §7, algwatch's own). */
export const STUN_ATTR = {
  MAPPED_ADDRESS: 0x0001,
  CHANGE_REQUEST: 0x0003, // RFC 5780 §7.2
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  XOR_MAPPED_ADDRESS: 0x0020,
  PADDING: 0x0026, // RFC 5780 §7.6
  RESPONSE_PORT: 0x0027, // RFC 5780 §7.5
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
  RESPONSE_ORIGIN: 0x802b, // RFC 5780 §7.3
  OTHER_ADDRESS: 0x802c, // RFC 5780 §7.4
  /**
   * algwatch's own, comprehension-optional (≥ 0x8000, so other servers ignore it): value is a uint32
   * of milliseconds. In a request: answer only after this long. In a response: milliseconds until the
   * final answer follows (the immediate acknowledgement), 0 on the final answer itself.
   */
  ALGWATCH_RESPONSE_DELAY: 0xc0a1,
} as const;

const KNOWN_TYPES = new Set<number>(Object.values(STUN_ATTR));

export interface TransportAddress {
  address: string;
  port: number;
}

export interface ChangeRequest {
  changeIp: boolean;
  changePort: boolean;
}

export interface StunErrorCode {
  code: number;
  reason: string;
}

/** StunAttributes are the typed attributes a message carries; the encoder writes them in this order. */
export interface StunAttributes {
  xorMappedAddress?: TransportAddress;
  mappedAddress?: TransportAddress;
  responseOrigin?: TransportAddress;
  otherAddress?: TransportAddress;
  errorCode?: StunErrorCode;
  unknownAttributes?: number[];
  changeRequest?: ChangeRequest;
  responsePort?: number;
  responseDelayMs?: number;
  /** Length of the PADDING attribute's value in bytes (its content is ignored). */
  paddingBytes?: number;
  software?: string;
  /** RFC 8489 §14.3 USERNAME; with MESSAGE-INTEGRITY it names the key (probe-signature.ts). */
  username?: string;
}

export interface RawAttribute {
  type: number;
  value: Buffer;
}

export interface StunMessage extends StunAttributes {
  method: number;
  class: StunClass;
  transactionId: Buffer;
  /** Every attribute in wire order, unpadded. */
  attributes: RawAttribute[];
  /** Comprehension-required types (< 0x8000) this codec does not know (RFC 8489 §7.3.1 → 420). */
  unknownRequired: number[];
  /** True when a FINGERPRINT was present (and therefore verified). */
  fingerprint: boolean;
  /** Where the MESSAGE-INTEGRITY attribute starts, when there is one (see stunIntegrityValid). */
  integrityAt?: number;
}

export type StunDecodeError =
  | 'too-short'
  | 'not-stun'
  | 'bad-cookie'
  | 'length-mismatch'
  | 'truncated-attribute'
  | 'bad-attribute'
  | 'bad-fingerprint'
  | 'fingerprint-not-last';

export type StunDecodeResult = { ok: true; message: StunMessage } | { ok: false; error: StunDecodeError };

export interface StunHeader {
  method: number;
  class: StunClass;
  transactionId: Buffer;
}

/** newTransactionId returns 96 random bits (RFC 8489 §6: uniformly and randomly chosen). */
export function newTransactionId(): Buffer {
  return randomBytes(TRANSACTION_ID_BYTES);
}

/** messageType packs method and class into the 14-bit type field (RFC 8489 §5, figure 3). */
export function messageType(method: number, cls: StunClass): number {
  const c = CLASS_BITS[cls];
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((c & 1) << 4) | ((c & 2) << 7);
}

/**
 * encodeStun writes a message with the given attributes and, unless told otherwise, a trailing
 * FINGERPRINT. Throws only for values that cannot be encoded (a bad address string): a bug.
 *
 * It sizes the message first and writes every attribute in place into one buffer: the reflector
 * encodes one answer per request it serves, so no intermediate buffers are built.
 */
export function encodeStun(header: StunHeader, attributes: StunAttributes = {}, options: { fingerprint?: boolean; integrityKey?: Buffer } = {}): Buffer {
  const tid = header.transactionId;
  if (tid.length !== TRANSACTION_ID_BYTES) throw new Error('STUN transaction id must be 12 bytes');
  const software = attributes.software;
  const softwareBytes = software === undefined ? 0 : Buffer.byteLength(software, 'utf8');
  const reason = attributes.errorCode?.reason;
  const reasonBytes = reason === undefined ? 0 : Buffer.byteLength(reason, 'utf8');
  const paddingBytes = attributes.paddingBytes;
  if (paddingBytes !== undefined && !(Number.isInteger(paddingBytes) && paddingBytes >= 0)) throw new RangeError(`STUN PADDING length ${paddingBytes} is not a byte count`);

  let bodyBytes = 0;
  if (attributes.xorMappedAddress) bodyBytes += 4 + addressValueBytes(attributes.xorMappedAddress);
  if (attributes.mappedAddress) bodyBytes += 4 + addressValueBytes(attributes.mappedAddress);
  if (attributes.responseOrigin) bodyBytes += 4 + addressValueBytes(attributes.responseOrigin);
  if (attributes.otherAddress) bodyBytes += 4 + addressValueBytes(attributes.otherAddress);
  if (attributes.errorCode) bodyBytes += 4 + padTo4(4 + reasonBytes);
  if (attributes.unknownAttributes) bodyBytes += 4 + padTo4(attributes.unknownAttributes.length * 2);
  if (attributes.changeRequest) bodyBytes += 8;
  if (attributes.responsePort !== undefined) bodyBytes += 8;
  if (attributes.responseDelayMs !== undefined) bodyBytes += 8;
  if (paddingBytes !== undefined) bodyBytes += 4 + padTo4(paddingBytes);
  if (software !== undefined) bodyBytes += 4 + padTo4(softwareBytes);
  const username = attributes.username;
  const usernameBytes = username === undefined ? 0 : Buffer.byteLength(username, 'utf8');
  if (username !== undefined) bodyBytes += 4 + padTo4(usernameBytes);
  if (options.integrityKey) bodyBytes += 4 + INTEGRITY_BYTES;
  const withFingerprint = options.fingerprint !== false;
  const total = STUN_HEADER_BYTES + bodyBytes + (withFingerprint ? 8 : 0);

  const message = Buffer.allocUnsafe(total);
  message.writeUInt16BE(messageType(header.method, header.class), 0);
  message.writeUInt16BE(total - STUN_HEADER_BYTES, 2);
  message.writeUInt32BE(MAGIC_COOKIE, 4);
  for (let i = 0; i < TRANSACTION_ID_BYTES; i++) message[8 + i] = tid[i]!;
  let at = STUN_HEADER_BYTES;
  if (attributes.xorMappedAddress) at = writeAddress(message, at, STUN_ATTR.XOR_MAPPED_ADDRESS, attributes.xorMappedAddress, tid);
  if (attributes.mappedAddress) at = writeAddress(message, at, STUN_ATTR.MAPPED_ADDRESS, attributes.mappedAddress, null);
  if (attributes.responseOrigin) at = writeAddress(message, at, STUN_ATTR.RESPONSE_ORIGIN, attributes.responseOrigin, null);
  if (attributes.otherAddress) at = writeAddress(message, at, STUN_ATTR.OTHER_ADDRESS, attributes.otherAddress, null);
  if (attributes.errorCode) {
    // RFC 8489 §14.8: 21 reserved bits, class (hundreds), number (0..99), UTF-8 reason.
    const value = writeAttributeHeader(message, at, STUN_ATTR.ERROR_CODE, 4 + reasonBytes);
    message[value] = 0;
    message[value + 1] = 0;
    message[value + 2] = Math.floor(attributes.errorCode.code / 100);
    message[value + 3] = attributes.errorCode.code % 100;
    if (reasonBytes > 0) message.write(reason!, value + 4, reasonBytes, 'utf8');
    at = zeroPadding(message, value, 4 + reasonBytes);
  }
  if (attributes.unknownAttributes) {
    const types = attributes.unknownAttributes;
    const value = writeAttributeHeader(message, at, STUN_ATTR.UNKNOWN_ATTRIBUTES, types.length * 2);
    for (let i = 0; i < types.length; i++) message.writeUInt16BE(types[i]!, value + i * 2);
    at = zeroPadding(message, value, types.length * 2);
  }
  if (attributes.changeRequest) {
    // RFC 5780 §7.2: bit 0x4 "change IP", bit 0x2 "change port".
    const value = writeAttributeHeader(message, at, STUN_ATTR.CHANGE_REQUEST, 4);
    message.writeUInt32BE((attributes.changeRequest.changeIp ? 4 : 0) | (attributes.changeRequest.changePort ? 2 : 0), value);
    at = value + 4;
  }
  if (attributes.responsePort !== undefined) {
    // RFC 5780 §7.5: 16-bit port, then 2 bytes of padding.
    const value = writeAttributeHeader(message, at, STUN_ATTR.RESPONSE_PORT, 4);
    message.writeUInt16BE(attributes.responsePort, value);
    message.writeUInt16BE(0, value + 2);
    at = value + 4;
  }
  if (attributes.responseDelayMs !== undefined) {
    const value = writeAttributeHeader(message, at, STUN_ATTR.ALGWATCH_RESPONSE_DELAY, 4);
    message.writeUInt32BE(attributes.responseDelayMs >>> 0, value);
    at = value + 4;
  }
  if (paddingBytes !== undefined) {
    const value = writeAttributeHeader(message, at, STUN_ATTR.PADDING, paddingBytes);
    message.fill(0, value, value + padTo4(paddingBytes));
    at = value + padTo4(paddingBytes);
  }
  if (software !== undefined) {
    const value = writeAttributeHeader(message, at, STUN_ATTR.SOFTWARE, softwareBytes);
    if (softwareBytes > 0) writeSoftware(message, value, software, softwareBytes);
    at = zeroPadding(message, value, softwareBytes);
  }
  if (username !== undefined) {
    const value = writeAttributeHeader(message, at, STUN_ATTR.USERNAME, usernameBytes);
    message.write(username, value, usernameBytes, 'utf8');
    at = zeroPadding(message, value, usernameBytes);
  }
  if (options.integrityKey) {
    const value = writeAttributeHeader(message, at, STUN_ATTR.MESSAGE_INTEGRITY, INTEGRITY_BYTES);
    integrityOf(message, at, options.integrityKey).copy(message, value);
    at = value + INTEGRITY_BYTES;
  }
  if (!withFingerprint) return message;
  // RFC 8489 §14.7: the CRC covers the message up to the attribute, with the length already
  // counting the FINGERPRINT attribute itself (set above).
  const value = writeAttributeHeader(message, at, STUN_ATTR.FINGERPRINT, 4);
  message.writeUInt32BE((crc32(message.subarray(0, at)) ^ FINGERPRINT_XOR) >>> 0, value);
  return message;
}

/** writeAttributeHeader writes an attribute's type and value length; returns where the value starts. */
function writeAttributeHeader(message: Buffer, at: number, type: number, valueBytes: number): number {
  message.writeUInt16BE(type, at);
  message.writeUInt16BE(valueBytes, at + 2);
  return at + 4;
}

// SOFTWARE is nearly always the same string (the reflector's name): keep its bytes.
let lastSoftware = '';
let lastSoftwareBytes: Buffer = Buffer.alloc(0);

function writeSoftware(message: Buffer, at: number, software: string, byteLength: number): void {
  if (software !== lastSoftware) {
    lastSoftware = software;
    lastSoftwareBytes = Buffer.from(software, 'utf8');
  }
  for (let i = 0; i < byteLength; i++) message[at + i] = lastSoftwareBytes[i]!;
}

/** zeroPadding zeroes the bytes after a value up to the 4-byte boundary (RFC 8489 §14); returns the end. */
function zeroPadding(message: Buffer, value: number, valueBytes: number): number {
  const end = value + padTo4(valueBytes);
  for (let i = value + valueBytes; i < end; i++) message[i] = 0;
  return end;
}

/** decodeStun parses one datagram; never throws. `ok: false` names what was wrong with it. */
export function decodeStun(bytes: Uint8Array): StunDecodeResult {
  try {
    return decodeUnchecked(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    return { ok: false, error: 'bad-attribute' }; // belt and braces: a parser bug is still "malformed"
  }
}

function decodeUnchecked(buf: Buffer): StunDecodeResult {
  if (buf.length < STUN_HEADER_BYTES) return { ok: false, error: 'too-short' };
  const type = buf.readUInt16BE(0);
  if ((type & 0xc000) !== 0) return { ok: false, error: 'not-stun' }; // RFC 8489 §5: top two bits zero
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) return { ok: false, error: 'bad-cookie' };
  const length = buf.readUInt16BE(2);
  if (length % 4 !== 0 || STUN_HEADER_BYTES + length !== buf.length) return { ok: false, error: 'length-mismatch' };
  const transactionId = Buffer.allocUnsafe(TRANSACTION_ID_BYTES); // a copy: the message may outlive the datagram
  buf.copy(transactionId, 0, 8, STUN_HEADER_BYTES);
  const message: StunMessage = {
    method: (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2),
    class: CLASSES[((type >> 4) & 1) | ((type >> 7) & 2)] ?? 'request',
    transactionId,
    attributes: [],
    unknownRequired: [],
    fingerprint: false,
  };
  let offset = STUN_HEADER_BYTES;
  while (offset < buf.length) {
    if (message.fingerprint) return { ok: false, error: 'fingerprint-not-last' };
    if (offset + 4 > buf.length) return { ok: false, error: 'truncated-attribute' };
    const attrType = buf.readUInt16BE(offset);
    const attrLength = buf.readUInt16BE(offset + 2);
    const start = offset + 4;
    if (start + attrLength > buf.length) return { ok: false, error: 'truncated-attribute' };
    const value = Buffer.from(buf.subarray(start, start + attrLength));
    if (attrType === STUN_ATTR.FINGERPRINT) {
      if (attrLength !== 4) return { ok: false, error: 'bad-attribute' };
      if (((crc32(buf.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0) !== value.readUInt32BE(0)) return { ok: false, error: 'bad-fingerprint' };
      message.fingerprint = true;
    } else if (attrType === STUN_ATTR.MESSAGE_INTEGRITY) {
      if (attrLength !== INTEGRITY_BYTES) return { ok: false, error: 'bad-attribute' };
      message.integrityAt ??= offset;
    } else if (!readAttribute(message, attrType, value)) {
      return { ok: false, error: 'bad-attribute' };
    }
    message.attributes.push({ type: attrType, value });
    // Padding bytes are skipped unread: RFC 5769's own vectors pad with spaces.
    offset = start + padTo4(attrLength);
  }
  if (offset !== buf.length) return { ok: false, error: 'truncated-attribute' };
  return { ok: true, message };
}

/** readAttribute fills the typed field for a known attribute; false when its value is malformed. */
function readAttribute(message: StunMessage, type: number, value: Buffer): boolean {
  switch (type) {
    case STUN_ATTR.XOR_MAPPED_ADDRESS:
      return store(message, 'xorMappedAddress', readAddress(value, message.transactionId));
    case STUN_ATTR.MAPPED_ADDRESS:
      return store(message, 'mappedAddress', readAddress(value, null));
    case STUN_ATTR.RESPONSE_ORIGIN:
      return store(message, 'responseOrigin', readAddress(value, null));
    case STUN_ATTR.OTHER_ADDRESS:
      return store(message, 'otherAddress', readAddress(value, null));
    case STUN_ATTR.ERROR_CODE: {
      // RFC 8489 §14.8: 21 reserved bits, class (hundreds, 3..6), number (0..99), UTF-8 reason.
      if (value.length < 4) return false;
      const hundreds = value[2]! & 0x07;
      const number = value[3]!;
      if (hundreds < 3 || hundreds > 6 || number > 99) return false;
      return store(message, 'errorCode', { code: hundreds * 100 + number, reason: value.subarray(4).toString('utf8') });
    }
    case STUN_ATTR.UNKNOWN_ATTRIBUTES: {
      if (value.length % 2 !== 0) return false;
      const types: number[] = [];
      for (let i = 0; i < value.length; i += 2) types.push(value.readUInt16BE(i));
      return store(message, 'unknownAttributes', types);
    }
    case STUN_ATTR.CHANGE_REQUEST:
      if (value.length !== 4) return false;
      return store(message, 'changeRequest', { changeIp: (value[3]! & 4) !== 0, changePort: (value[3]! & 2) !== 0 });
    case STUN_ATTR.RESPONSE_PORT:
      if (value.length !== 4) return false;
      return store(message, 'responsePort', value.readUInt16BE(0));
    case STUN_ATTR.ALGWATCH_RESPONSE_DELAY:
      if (value.length !== 4) return false;
      return store(message, 'responseDelayMs', value.readUInt32BE(0));
    case STUN_ATTR.PADDING:
      return store(message, 'paddingBytes', value.length);
    case STUN_ATTR.SOFTWARE:
      return store(message, 'software', value.toString('utf8'));
    case STUN_ATTR.USERNAME:
      // RFC 8489 §14.3: at most 513 bytes.
      if (value.length > 513) return false;
      return store(message, 'username', value.toString('utf8'));
    default:
      if (type < 0x8000 && !KNOWN_TYPES.has(type)) message.unknownRequired.push(type);
      return true;
  }
}

/** store keeps the first occurrence (RFC 8489 §14: later duplicates are ignored). */
function store<K extends keyof StunAttributes>(message: StunMessage, key: K, value: StunAttributes[K] | null): boolean {
  if (value === null) return false;
  const attributes: StunAttributes = message;
  if (attributes[key] === undefined) attributes[key] = value;
  return true;
}

/** addressValueBytes is the length of an (XOR-)MAPPED-ADDRESS value: 8 for IPv4, 20 for IPv6. */
function addressValueBytes(target: TransportAddress): number {
  return target.address.includes(':') ? 20 : 8;
}

/**
 * writeAddress writes an (XOR-)MAPPED-ADDRESS attribute (RFC 8489 §14.1, §14.2): 0, family
 * (1 IPv4, 2 IPv6), port, address; the XOR form masks port and address with the cookie (and, for
 * IPv6, the transaction id). Returns where the next attribute starts.
 */
function writeAddress(message: Buffer, at: number, type: number, target: TransportAddress, xorWith: Buffer | null): number {
  const ipv6 = target.address.includes(':');
  const value = writeAttributeHeader(message, at, type, ipv6 ? 20 : 8);
  message[value] = 0;
  message[value + 1] = ipv6 ? 2 : 1;
  message.writeUInt16BE(target.port, value + 2);
  if (ipv6) {
    const ip = parseIp(target.address);
    if (!ip || ip.length !== 16) throw new Error(`not an IP address: ${target.address}`);
    ip.copy(message, value + 4);
  } else if (!writeIpv4(target.address, message, value + 4)) {
    throw new Error(`not an IP address: ${target.address}`);
  }
  const end = value + (ipv6 ? 20 : 8);
  if (xorWith) xorAddress(message, value, end, xorWith);
  return end;
}

function readAddress(value: Buffer, xorWith: Buffer | null): TransportAddress | null {
  if (value.length < 4) return null;
  const family = value[1];
  if (!((family === 1 && value.length === 8) || (family === 2 && value.length === 20))) return null;
  const copy = Buffer.from(value);
  if (xorWith) xorAddress(copy, 0, copy.length, xorWith);
  return { address: formatIp(copy.subarray(4)), port: copy.readUInt16BE(2) };
}

/** The magic cookie's bytes: the XOR mask's first 4 bytes (RFC 8489 §14.2). */
const COOKIE_BYTES = [0x21, 0x12, 0xa4, 0x42] as const;

/** xorAddress masks the address value in bytes [start, end) in place (RFC 8489 §14.2). */
function xorAddress(bytes: Uint8Array, start: number, end: number, transactionId: Uint8Array): void {
  bytes[start + 2]! ^= COOKIE_BYTES[0]; // port: XOR with the cookie's top 16 bits
  bytes[start + 3]! ^= COOKIE_BYTES[1];
  // Address: XOR with the cookie, then (IPv6) with the 12-byte transaction id.
  for (let i = 4; start + i < end; i++) bytes[start + i]! ^= i < 8 ? COOKIE_BYTES[i - 4]! : transactionId[i - 8]!;
}

const INTEGRITY_BYTES = 20;

/**
 * integrityOf is the MESSAGE-INTEGRITY value for a message whose attribute starts at `at` (RFC 8489
 * §14.5): HMAC-SHA1 over the bytes before it, with the header's length counting up to the end of the
 * MESSAGE-INTEGRITY attribute (whatever follows, such as FINGERPRINT, is left out).
 */
function integrityOf(message: Buffer, at: number, key: Buffer): Buffer {
  const prefix = Buffer.from(message.subarray(0, at));
  prefix.writeUInt16BE(at - STUN_HEADER_BYTES + 4 + INTEGRITY_BYTES, 2);
  return createHmac('sha1', key).update(prefix).digest();
}

/**
 * stunIntegrityValid says whether `packet` (decoded as `message`) carries a MESSAGE-INTEGRITY made
 * with `key`. False when there is none or it does not match.
 */
export function stunIntegrityValid(packet: Buffer, message: StunMessage, key: Buffer): boolean {
  const at = message.integrityAt;
  if (at === undefined || at + 4 + INTEGRITY_BYTES > packet.length) return false;
  return timingSafeEqual(integrityOf(packet, at, key), packet.subarray(at + 4, at + 4 + INTEGRITY_BYTES));
}

function padTo4(n: number): number {
  return (n + 3) & ~3;
}

let crcTable: Uint32Array | undefined;

/** crc32 is the ISO-HDLC CRC-32 (the one of zlib) that FINGERPRINT uses. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

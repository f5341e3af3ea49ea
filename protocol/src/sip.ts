/**
 * SIP message bytes, built and parsed by hand: ALG detection is a byte-exact diff, and no SIP
 * library round-trips a message unchanged (they re-order, re-case and re-fold headers).
 *
 * Text is handled as latin1 "byte strings": one character is one byte, so a message survives
 * bytes → string → bytes unchanged and Content-Length is simply `body.length`.
 */

/** SipHeader is one header line as it appeared on the wire (folded lines kept in `line`). */
export interface SipHeader {
  /** The name as written (`v`, `VIA`, `Via`...). */
  name: string;
  /** The long form in canonical case (`Via` for `v`), used to find and compare headers. */
  canonical: string;
  /** The value with surrounding whitespace trimmed and folded lines joined by one space. */
  value: string;
  /** The exact line(s) without the final CRLF. */
  line: string;
}

export interface SipMessage {
  startLine: string;
  /** Set for requests (RFC 3261 §7.1 Request-Line). */
  request?: { method: string; uri: string };
  /** Set for responses (RFC 3261 §7.2 Status-Line). */
  response?: { statusCode: number; reason: string };
  headers: SipHeader[];
  /** The body, exactly Content-Length bytes (latin1). */
  body: string;
}

// RFC 3261 §7.3.3 compact forms, plus the ones later RFCs registered (RFC 3265, 3515, 3892, 4028).
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'Call-ID', v: 'Via', m: 'Contact', f: 'From', t: 'To', l: 'Content-Length', c: 'Content-Type',
  e: 'Content-Encoding', k: 'Supported', s: 'Subject', o: 'Event', u: 'Allow-Events', r: 'Refer-To',
  b: 'Referred-By', x: 'Session-Expires',
};

const SPECIAL_CASE: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version',
};

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const REQUEST_LINE = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/2\.0$/;
const STATUS_LINE = /^SIP\/2\.0 ([1-6]\d\d) ([^\r\n]*)$/;

// Every parse and header lookup canonicalises names, and the same few dozen names recur: remember
// them. Bounded, since names come from unauthenticated datagrams.
const canonicalNames = new Map<string, string>();
const MAX_CANONICAL_NAMES = 256;

/** canonicalHeaderName turns `v`, `via` or `VIA` into `Via`, `call-id` into `Call-ID`. */
export function canonicalHeaderName(name: string): string {
  let canonical = canonicalNames.get(name);
  if (canonical === undefined) {
    canonical = canonicalOf(name);
    if (canonicalNames.size >= MAX_CANONICAL_NAMES) canonicalNames.clear();
    canonicalNames.set(name, canonical);
  }
  return canonical;
}

function canonicalOf(name: string): string {
  const lower = name.toLowerCase();
  const compact = COMPACT_FORMS[lower];
  if (compact) return compact;
  const special = SPECIAL_CASE[lower];
  if (special) return special;
  return lower.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** sipText decodes wire bytes into a latin1 byte string (lossless). */
export function sipText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** sipBytes encodes a latin1 byte string back into the exact wire bytes. */
export function sipBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/**
 * parseSipMessage parses one whole SIP message (a UDP datagram, or one message cut by
 * SipStreamFramer). It returns null for anything that is not a well-formed SIP message; it never
 * throws. Bytes beyond Content-Length are ignored (RFC 3261 §18.3); a body shorter than
 * Content-Length is malformed; without Content-Length the rest of the datagram is the body.
 */
export function parseSipMessage(data: Uint8Array | string): SipMessage | null {
  try {
    return parseOrNull(typeof data === 'string' ? data : sipText(data));
  } catch {
    return null;
  }
}

function parseOrNull(text: string): SipMessage | null {
  // RFC 3261 §7.5: CRLFs before the start line are ignored.
  let start = 0;
  while (text.startsWith('\r\n', start)) start += 2;
  const headerEnd = text.indexOf('\r\n\r\n', start);
  if (headerEnd < 0) return null;
  const lines = text.slice(start, headerEnd).split('\r\n');
  const startLine = lines[0] ?? '';
  const message: SipMessage = { startLine, headers: [], body: '' };
  const requestMatch = REQUEST_LINE.exec(startLine);
  const statusMatch = STATUS_LINE.exec(startLine);
  if (requestMatch) message.request = { method: requestMatch[1]!.toUpperCase(), uri: requestMatch[2]! };
  else if (statusMatch) message.response = { statusCode: Number(statusMatch[1]), reason: statusMatch[2]! };
  else return null;

  for (const line of lines.slice(1)) {
    const previous = message.headers[message.headers.length - 1];
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // RFC 3261 §7.3.1 line folding: a continuation belongs to the header above.
      if (!previous) return null;
      previous.line += `\r\n${line}`;
      previous.value = `${previous.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).trimEnd();
    if (!TOKEN.test(name)) return null;
    message.headers.push({ name, canonical: canonicalHeaderName(name), value: line.slice(colon + 1).trim(), line });
  }

  const rest = text.slice(headerEnd + 4);
  const contentLength = sipHeaderValue(message, 'Content-Length');
  if (contentLength === undefined) {
    message.body = rest;
  } else {
    if (!/^\d{1,9}$/.test(contentLength)) return null;
    const length = Number(contentLength);
    if (rest.length < length) return null;
    message.body = rest.slice(0, length);
  }
  return message;
}

/** sipHeaderValues returns the values of every header with this name (any form), in order. */
export function sipHeaderValues(message: SipMessage, name: string): string[] {
  const canonical = canonicalHeaderName(name);
  return message.headers.filter((header) => header.canonical === canonical).map((header) => header.value);
}

/** sipHeaderValue returns the first value of a header, or undefined when it is absent. */
export function sipHeaderValue(message: SipMessage, name: string): string | undefined {
  const canonical = canonicalHeaderName(name);
  return message.headers.find((header) => header.canonical === canonical)?.value;
}

/** splitSdpLines splits an SDP body into its lines (RFC 8866 §5: CRLF, tolerating bare LF). */
export function splitSdpLines(body: string): string[] {
  const lines = body.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** SipMessageParts is what buildSipMessage assembles: headers as [name, value] in order. */
export interface SipMessageParts {
  startLine: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: string;
}

/**
 * buildSipMessage writes a message with CRLF line ends. Content-Length is always made correct:
 * an existing Content-Length header keeps its place with the right value, otherwise one is added
 * last (RFC 3261 §20.14: it is mandatory on stream transports, and harmless on UDP).
 */
export function buildSipMessage(parts: SipMessageParts): string {
  return `${parts.startLine}\r\n${sipHeaderLines(parts).join('\r\n')}\r\n\r\n${parts.body ?? ''}`;
}

/**
 * sipHeaderLines is the header lines buildSipMessage writes for these parts, Content-Length
 * included: what parsing its message gives back as each header's `line` when no value holds a
 * CRLF (parsed values never do).
 */
export function sipHeaderLines(parts: SipMessageParts): string[] {
  const bodyLength = (parts.body ?? '').length;
  let sawLength = false;
  const lines = parts.headers.map(([name, value]) => {
    if (canonicalHeaderName(name) !== 'Content-Length') return `${name}: ${value}`;
    sawLength = true;
    return `${name}: ${bodyLength}`;
  });
  if (!sawLength) lines.push(`Content-Length: ${bodyLength}`);
  return lines;
}

/** SipStreamItem is one unit cut from a TCP/TLS byte stream. */
export type SipStreamItem =
  | { kind: 'message'; bytes: Buffer }
  /** RFC 5626 §3.5.1: a client's CRLFCRLF keep-alive ping. */
  | { kind: 'ping' }
  /** RFC 5626 §3.5.1: the single CRLF pong answering a ping. */
  | { kind: 'pong' }
  /** The stream cannot be framed (too large, bad Content-Length): close the connection. */
  | { kind: 'invalid'; reason: string };

export const DEFAULT_MAX_SIP_MESSAGE_BYTES = 16 * 1024;

const CRLF = 0x0d0a;

/**
 * SipStreamFramer cuts a TCP/TLS byte stream into SIP messages by Content-Length (RFC 3261 §18.3)
 * and recognises RFC 5626 keep-alives between messages. After an `invalid` item it stays invalid:
 * a stream that lost its framing cannot be resynchronised.
 */
export class SipStreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private broken: string | null = null;

  constructor(private readonly maxMessageBytes = DEFAULT_MAX_SIP_MESSAGE_BYTES) {}

  /** bufferedBytes is what is held waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  push(chunk: Uint8Array): SipStreamItem[] {
    if (this.broken !== null) return [{ kind: 'invalid', reason: this.broken }];
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const items: SipStreamItem[] = [];
    for (;;) {
      const item = this.next();
      if (!item) break;
      items.push(item);
      if (item.kind === 'invalid') {
        this.broken = item.reason;
        this.buffer = Buffer.alloc(0);
        break;
      }
    }
    return items;
  }

  private next(): SipStreamItem | null {
    const buffer = this.buffer;
    if (buffer.length >= 2 && buffer.readUInt16BE(0) === CRLF) {
      if (buffer.length >= 4 && buffer.readUInt16BE(2) === CRLF) {
        this.buffer = buffer.subarray(4);
        return { kind: 'ping' };
      }
      if (buffer.length === 3 && buffer[2] === 0x0d) return null; // maybe the rest of a ping
      this.buffer = buffer.subarray(2);
      return { kind: 'pong' };
    }
    if (buffer.length === 0 || (buffer.length === 1 && buffer[0] === 0x0d)) return null;
    const headerEnd = buffer.indexOf('\r\n\r\n', 0, 'latin1');
    if (headerEnd < 0) {
      return buffer.length > this.maxMessageBytes ? { kind: 'invalid', reason: `SIP headers exceed ${this.maxMessageBytes} bytes` } : null;
    }
    const head = buffer.subarray(0, headerEnd).toString('latin1');
    const match = /\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/i.exec(head);
    const lengthText = match ? match[1]!.trim() : '0';
    if (!/^\d{1,9}$/.test(lengthText)) return { kind: 'invalid', reason: `bad Content-Length "${lengthText.slice(0, 20)}"` };
    const total = headerEnd + 4 + Number(lengthText);
    if (total > this.maxMessageBytes) return { kind: 'invalid', reason: `SIP message of ${total} bytes exceeds ${this.maxMessageBytes}` };
    if (buffer.length < total) return null;
    this.buffer = buffer.subarray(total);
    return { kind: 'message', bytes: Buffer.from(buffer.subarray(0, total)) };
  }
}

/** splitHeaderList splits a comma-separated header value (RFC 3261 §7.3.1), not inside quotes or <>. */
export function splitHeaderList(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && char === '<') depth++;
    else if (!quoted && char === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && char === ',') {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((part) => part.length > 0);
}

/** SipVia is one via-parm (RFC 3261 §20.42): `SIP/2.0/UDP host:port;branch=...;rport`. */
export interface SipVia {
  transport: string;
  host: string;
  port?: number;
  /** Parameters in order; a flag parameter such as a bare `rport` has the value null. */
  params: Array<[string, string | null]>;
}

const VIA = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9-]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s:;]+)(?:\s*:\s*(\d{1,5}))?\s*((?:;[^;]*)*)$/;

/** parseVia parses one via-parm; null when it is not one. */
export function parseVia(value: string): SipVia | null {
  const match = VIA.exec(value.trim());
  if (!match) return null;
  const params: Array<[string, string | null]> = [];
  for (const param of match[4]!.split(';').slice(1)) {
    const equals = param.indexOf('=');
    const name = (equals < 0 ? param : param.slice(0, equals)).trim();
    if (!name) return null;
    params.push([name, equals < 0 ? null : param.slice(equals + 1).trim()]);
  }
  const via: SipVia = { transport: match[1]!.toUpperCase(), host: match[2]!, params };
  if (match[3] !== undefined) via.port = Number(match[3]);
  return via;
}

/** formatVia writes a via-parm back in the usual compact spelling. */
export function formatVia(via: SipVia): string {
  const sentBy = via.port === undefined ? via.host : `${via.host}:${via.port}`;
  const params = via.params.map(([name, value]) => (value === null ? `;${name}` : `;${name}=${value}`)).join('');
  return `SIP/2.0/${via.transport} ${sentBy}${params}`;
}

/** viaParam returns a Via parameter's value: undefined when absent, null for a bare flag. */
export function viaParam(via: SipVia, name: string): string | null | undefined {
  const found = via.params.find(([key]) => key.toLowerCase() === name.toLowerCase());
  return found ? found[1] : undefined;
}

/** sipHostPort writes address:port the SIP way: IPv6 in brackets (RFC 3261 §25.1 IPv6reference). */
export function sipHostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** sdpAddress writes the SDP nettype/addrtype/address triple (RFC 8866 §5.7). */
export function sdpAddress(address: string): string {
  return `IN ${address.includes(':') ? 'IP6' : 'IP4'} ${address}`;
}

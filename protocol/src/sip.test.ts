import { describe, expect, it } from 'vitest';
import {
  buildSipMessage, canonicalHeaderName, formatVia, parseSipMessage, parseVia, sipBytes, sipHeaderValue,
  sipHeaderValues, SipStreamFramer, splitHeaderList, splitSdpLines, viaParam,
} from './sip.js';

const INVITE = [
  'INVITE sip:echo@198.51.100.1:5060 SIP/2.0',
  'v: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKabc;rport',
  'f: <sip:alice@10.0.0.5:5062>;tag=1',
  't: <sip:echo@198.51.100.1:5060>',
  'i: call-1',
  'CSeq: 1 INVITE',
  'm: <sip:alice@10.0.0.5:5062>',
  'c: application/sdp',
  'l: 24',
  '',
  'v=0\r\nc=IN IP4 10.0.0.5\r\nEXTRA',
].join('\r\n');

describe('parseSipMessage', () => {
  it('reads the request line, headers in order with compact forms, and a body cut at Content-Length', () => {
    const message = parseSipMessage(sipBytes(INVITE));
    expect(message?.request).toEqual({ method: 'INVITE', uri: 'sip:echo@198.51.100.1:5060' });
    expect(message?.headers.map((header) => header.canonical)).toEqual([
      'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Content-Type', 'Content-Length',
    ]);
    expect(message?.headers[0]?.line).toBe('v: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKabc;rport');
    expect(sipHeaderValue(message!, 'call-id')).toBe('call-1');
    expect(message?.body).toBe('v=0\r\nc=IN IP4 10.0.0.5\r\n');
  });

  it('reads a status line and joins folded header lines', () => {
    const message = parseSipMessage('SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1,\r\n SIP/2.0/TCP b\r\nVia: SIP/2.0/TCP c\r\n\r\n');
    expect(message?.response).toEqual({ statusCode: 486, reason: 'Busy Here' });
    expect(sipHeaderValues(message!, 'v')).toEqual(['SIP/2.0/TCP a;branch=z9hG4bK1, SIP/2.0/TCP b', 'SIP/2.0/TCP c']);
    expect(message?.headers[0]?.line).toBe('Via: SIP/2.0/TCP a;branch=z9hG4bK1,\r\n SIP/2.0/TCP b');
  });

  it('returns null for garbage, a body shorter than Content-Length, and a bad header, without throwing', () => {
    for (const garbage of ['', 'hello', '\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'OPTIONS sip:a SIP/2.0\r\nno colon\r\n\r\n',
      'OPTIONS sip:a SIP/2.0\r\nl: 10\r\n\r\nshort', 'OPTIONS sip:a SIP/2.0\r\nl: -1\r\n\r\n', 'SIP/2.0 99 Nope\r\n\r\n']) {
      expect(parseSipMessage(garbage)).toBeNull();
    }
    expect(parseSipMessage(new Uint8Array([0xff, 0x00, 0x13, 0x37]))).toBeNull();
  });
});

describe('buildSipMessage', () => {
  it('writes CRLF lines and a correct Content-Length in place, or last when absent', () => {
    const built = buildSipMessage({ startLine: 'SIP/2.0 200 OK', headers: [['l', '999'], ['Call-ID', 'x']], body: 'v=0\r\n' });
    expect(built).toBe('SIP/2.0 200 OK\r\nl: 5\r\nCall-ID: x\r\n\r\nv=0\r\n');
    expect(buildSipMessage({ startLine: 'OPTIONS sip:a SIP/2.0', headers: [['CSeq', '1 OPTIONS']] })).toBe(
      'OPTIONS sip:a SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('round-trips a message byte for byte through parse', () => {
    const text = buildSipMessage({ startLine: 'OPTIONS sip:a SIP/2.0', headers: [['Via', 'SIP/2.0/UDP h:1'], ['X-Latin', 'caf\xe9']], body: 'b' });
    const message = parseSipMessage(sipBytes(text))!;
    expect(buildSipMessage({ startLine: message.startLine, headers: message.headers.map((h) => [h.name, h.value]), body: message.body })).toBe(text);
  });
});

describe('helpers', () => {
  it('canonicalises header names and splits SDP and comma lists', () => {
    expect(['i', 'CSEQ', 'www-authenticate', 'x-algwatch-echo'].map(canonicalHeaderName)).toEqual([
      'Call-ID', 'CSeq', 'WWW-Authenticate', 'X-Algwatch-Echo',
    ]);
    expect(splitSdpLines('v=0\r\nc=IN IP4 1.2.3.4\n')).toEqual(['v=0', 'c=IN IP4 1.2.3.4']);
    expect(splitHeaderList('"a, b" <sip:x>, <sip:y;p=1,2>, z')).toEqual(['"a, b" <sip:x>', '<sip:y;p=1,2>', 'z']);
  });

  it('parses and formats a Via with a bare rport and an IPv6 sent-by', () => {
    const via = parseVia('SIP/2.0/udp [2001:db8::1]:5060;branch=z9hG4bKx;rport')!;
    expect(via).toEqual({ transport: 'UDP', host: '[2001:db8::1]', port: 5060, params: [['branch', 'z9hG4bKx'], ['rport', null]] });
    expect(viaParam(via, 'RPORT')).toBeNull();
    expect(viaParam(via, 'received')).toBeUndefined();
    expect(formatVia(via)).toBe('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKx;rport');
    expect(parseVia('HTTP/1.1 host')).toBeNull();
  });
});

describe('SipStreamFramer', () => {
  const message = buildSipMessage({ startLine: 'OPTIONS sip:a SIP/2.0', headers: [['CSeq', '1 OPTIONS']], body: 'hello' });

  it('cuts messages by Content-Length across arbitrary chunk boundaries', () => {
    const framer = new SipStreamFramer();
    const stream = sipBytes(message + message);
    const items = [];
    for (let i = 0; i < stream.length; i += 7) items.push(...framer.push(stream.subarray(i, i + 7)));
    expect(items.map((item) => (item.kind === 'message' ? item.bytes.toString('latin1') : item.kind))).toEqual([message, message]);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('recognises a CRLFCRLF ping and a CRLF pong between messages (RFC 5626 §3.5.1)', () => {
    const framer = new SipStreamFramer();
    expect(framer.push(sipBytes('\r\n\r\n')).map((item) => item.kind)).toEqual(['ping']);
    expect(framer.push(sipBytes('\r\n')).map((item) => item.kind)).toEqual(['pong']);
    expect(framer.push(sipBytes(`\r\n${message}\r\n\r\n`)).map((item) => item.kind)).toEqual(['pong', 'message', 'ping']);
  });

  it('reports an oversized or unframeable stream as invalid, and stays invalid', () => {
    const small = new SipStreamFramer(64);
    expect(small.push(sipBytes('x'.repeat(65))).map((item) => item.kind)).toEqual(['invalid']);
    const framer = new SipStreamFramer();
    expect(framer.push(sipBytes('OPTIONS sip:a SIP/2.0\r\nContent-Length: 99999999\r\n\r\n'))[0]?.kind).toBe('invalid');
    expect(framer.push(sipBytes(message))[0]?.kind).toBe('invalid');
    expect(new SipStreamFramer().push(sipBytes('OPTIONS sip:a SIP/2.0\r\nl: abc\r\n\r\n'))[0]?.kind).toBe('invalid');
  });
});

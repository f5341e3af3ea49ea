/**
 * sipMutant builds one fuzz SIP request like the agent's probes (INVITE with SDP, REGISTER,
 * OPTIONS, carrying the `X-Algwatch-Probe: 1` marker) and then, most of the time, breaks it:
 * truncation, header garbage, Content-Length lies (RFC 3261 §18.3, §20.14), binary junk, an
 * oversized header, a missing mandatory header (RFC 3261 §8.1.1), a method or start line the
 * reflector must not answer. Every request gets a fresh Call-ID and branch so that a reply can be
 * traced back to the one datagram that caused it; validity is judged from the bytes by the oracle.
 */
import { buildSipMessage } from '@algwatch/protocol/sip';
import { SIP_PROBE_HEADER } from '@algwatch/protocol/sip-echo';
import type { SeededRandom } from './seeded-random.js';

export const SIP_STRATEGIES = {
  intact: 12,
  truncated: 10,
  'header-garbage': 10,
  'content-length-lie': 10,
  'binary-junk': 10,
  oversized: 4,
  'bit-flips': 8,
  'missing-mandatory-header': 8,
  'unanswerable-method': 6,
  'response-instead-of-request': 4,
  'odd-but-legal-syntax': 8,
  'marker-variations': 6,
  'nul-in-start-line': 4,
} as const;
export type SipStrategy = keyof typeof SIP_STRATEGIES;

export interface SipMutant {
  bytes: Buffer;
  strategy: SipStrategy;
  /** The Call-ID the generator wrote (a mutation may have damaged it on the wire). */
  callId: string;
}

type Header = [string, string];

/** sipMutant returns one request; `id` makes its Call-ID and branch unique within a run. */
export function sipMutant(random: SeededRandom, id: string, serverHost: string): SipMutant {
  const strategy = random.weighted(SIP_STRATEGIES);
  const method = random.pick(['INVITE', 'REGISTER', 'OPTIONS'] as const);
  const callId = `${id}@fuzz.algwatch`;
  const local = `10.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}:${random.pick([5060, 5062, random.int(1024, 65535)])}`;
  const headers: Header[] = [
    ['Via', `SIP/2.0/UDP ${local};branch=z9hG4bK${id}${random.chance(0.7) ? ';rport' : ''}`],
    ['Max-Forwards', '70'],
    ['From', `<sip:algwatch@${local}>;tag=${id.slice(-8)}`],
    ['To', method === 'REGISTER' ? `<sip:algwatch@${serverHost}>` : `<sip:echo@${serverHost}>`],
    ['Call-ID', callId],
    ['CSeq', `${random.int(1, 9999)} ${method}`],
    ['Contact', `<sip:algwatch@${local}>`],
    [SIP_PROBE_HEADER, '1'],
    ['User-Agent', 'algwatch-agent/0.1 fuzz'],
  ];
  if (method === 'REGISTER') headers.push(['Expires', '60']);
  let body = '';
  if (method === 'INVITE') {
    const ip = local.split(':')[0]!;
    body = ['v=0', `o=algwatch 1 1 IN IP4 ${ip}`, 's=algwatch', `c=IN IP4 ${ip}`, 't=0 0', 'm=audio 40000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
    headers.push(['Content-Type', 'application/sdp']);
  }
  const startLine = `${method} ${method === 'REGISTER' ? `sip:${serverHost}` : `sip:echo@${serverHost}`} SIP/2.0`;
  const text = (lines: Header[] = headers, first = startLine, content = body) => buildSipMessage({ startLine: first, headers: lines, body: content });
  const bytes = (value: string) => Buffer.from(value, 'latin1');
  const result = (wire: Buffer): SipMutant => ({ bytes: wire, strategy, callId });

  switch (strategy) {
    case 'intact':
      return result(bytes(text()));
    case 'truncated': {
      const wire = bytes(text());
      return result(wire.subarray(0, random.int(0, wire.length - 1)));
    }
    case 'header-garbage': {
      const junk = random.pick([
        'this line has no colon',
        ': value without a name',
        'Bad Name: a space in the header name',
        `X-Junk: ${random.bytes(random.int(1, 200)).toString('latin1').replace(/[\r\n]/g, ' ')}`,
        `${random.bytes(random.int(1, 30)).toString('latin1').replace(/[\r\n]/g, '')}: binary name`,
        ' folded continuation right after the start line',
        'Via: not a via at all',
        'CSeq',
      ]);
      const lines = headers.map(([name, value]) => `${name}: ${value}`);
      lines.splice(random.int(0, lines.length), 0, junk);
      return result(bytes(`${startLine}\r\n${lines.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    }
    case 'content-length-lie': {
      const lie = random.pick([String(body.length + random.int(1, 500)), String(Math.max(0, body.length - 5)), '-1', 'abc', '99999999999', '', '1e3', ` ${body.length} x`]);
      return result(bytes(`${startLine}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\nContent-Length: ${lie}\r\n\r\n${body}`));
    }
    case 'binary-junk': {
      const wire = bytes(text());
      const at = random.int(0, wire.length);
      const junk = random.bytes(random.int(1, 300));
      const replace = random.chance(0.5) ? Math.min(junk.length, wire.length - at) : 0;
      return result(Buffer.concat([wire.subarray(0, at), junk, wire.subarray(at + replace)]));
    }
    case 'oversized': {
      // Sizes around the reflector's 16 KiB message limit and the 3x reply cap.
      const size = random.pick([1500, 4000, 12_000, 16_000, 16_385, 30_000, 60_000]);
      const filler = random.chance(0.5) ? 'a'.repeat(size) : random.bytes(size).toString('base64').slice(0, size);
      return result(bytes(text([...headers, ['X-Filler', filler]])));
    }
    case 'bit-flips': {
      const wire = bytes(text());
      for (let flips = random.int(1, 6); flips > 0; flips--) wire[random.int(0, wire.length - 1)]! ^= 1 << random.int(0, 7);
      return result(wire);
    }
    case 'missing-mandatory-header': {
      const drop = random.pick(['Via', 'From', 'To', 'Call-ID', 'CSeq']);
      return result(bytes(text(headers.filter(([name]) => name !== drop))));
    }
    case 'unanswerable-method': {
      const other = random.pick(['ACK', 'BYE', 'CANCEL', 'SUBSCRIBE', 'FOO-BAR']);
      const lines = headers.filter(([name]) => name !== SIP_PROBE_HEADER || random.chance(0.5));
      return result(bytes(text(lines.map(([n, v]): Header => [n, n === 'CSeq' ? `1 ${other}` : v]), `${other} sip:echo@${serverHost} SIP/2.0`)));
    }
    case 'response-instead-of-request':
      return result(bytes(text(headers, random.pick(['SIP/2.0 200 OK', 'SIP/2.0 100 Trying', 'SIP/2.0 999 Odd', 'SIP/3.0 200 OK']))));
    case 'odd-but-legal-syntax':
      return result(bytes(oddButLegal(random, startLine, headers, body)));
    case 'marker-variations': {
      const value = random.pick(['0', '2', 'yes', '', ' 1 ', '1']);
      const lines = headers.map(([n, v]): Header => [n, n === SIP_PROBE_HEADER ? value : v]);
      return result(bytes(text(random.chance(0.3) ? lines.filter(([n]) => n !== SIP_PROBE_HEADER) : lines)));
    }
    case 'nul-in-start-line': {
      const wire = bytes(text());
      wire[random.int(0, startLine.length - 1)] = random.pick([0x00, 0x0a, 0x0d, 0xff, 0x20]);
      return result(wire);
    }
  }
}

/** oddButLegal keeps the request valid with syntax parsers trip on (RFC 3261 §7.3.1, §7.3.3, §7.5). */
function oddButLegal(random: SeededRandom, startLine: string, headers: Header[], body: string): string {
  const compact: Record<string, string> = { Via: 'v', From: 'f', To: 't', 'Call-ID': 'i', Contact: 'm', 'Content-Type': 'c' };
  const lines = headers.map(([name, value]) => {
    const spelled = random.chance(0.3) ? (compact[name] ?? name) : random.chance(0.3) ? name.toUpperCase() : name;
    const spaced = random.chance(0.2) ? `${spelled} :   ${value}  ` : `${spelled}: ${value}`;
    return random.chance(0.1) && name === 'User-Agent' ? `${spaced}\r\n\tcontinued` : spaced;
  });
  if (random.chance(0.3)) lines.splice(1, 0, 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsecond');
  const prefix = random.chance(0.3) ? '\r\n\r\n' : '';
  return `${prefix}${startLine}\r\n${lines.join('\r\n')}\r\nl: ${body.length}\r\n\r\n${body}`;
}

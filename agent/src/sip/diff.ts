/**
 * The byte-exact comparison behind SIP ALG detection: a message as one side wrote it against the
 * same message as the other side got it. Differences are reported per header or SDP line, as the
 * smallest differing pieces (usually one address:port), so that three requests rewritten the same
 * way collapse into the same few rewrites.
 */
import type { SipRewrite } from '@algwatch/protocol/check-report';
import { canonicalHeaderName, splitSdpLines, type SipMessage } from '@algwatch/protocol/sip';

/** SipLayout is a message reduced to what is compared: start line, header lines, SDP lines. */
export interface SipLayout {
  startLine: string;
  /** Header lines in order, each with its canonical name. */
  headers: Array<{ canonical: string; line: string }>;
  sdp: string[];
}

/** layoutOf reduces a parsed message, leaving out headers named in `without` (e.g. the echo). */
export function layoutOf(message: SipMessage, without: string[] = []): SipLayout {
  const skip = new Set(without.map(canonicalHeaderName));
  return {
    startLine: message.startLine,
    headers: message.headers.filter((header) => !skip.has(header.canonical)).map(({ canonical, line }) => ({ canonical, line })),
    sdp: splitSdpLines(message.body),
  };
}

/** layoutOfLines builds a layout from header lines as text (the echo's canaries). */
export function layoutOfLines(startLine: string, headerLines: string[], sdp: string[]): SipLayout {
  return {
    startLine,
    headers: headerLines.map((line) => ({ canonical: canonicalHeaderName(line.slice(0, Math.max(0, line.indexOf(':'))).trim()), line })),
    sdp,
  };
}

/**
 * diffSipLayouts lists what changed from `sent` to `received`: the start line (field
 * `Request-Line` or `Status-Line`), each header by name (the n-th Via against the n-th Via), and
 * each SDP line by type (`SDP c=`). An added or removed line is reported whole, against ''.
 */
export function diffSipLayouts(direction: SipRewrite['direction'], sent: SipLayout, received: SipLayout): SipRewrite[] {
  const rewrites: SipRewrite[] = [];
  const startField = sent.startLine.startsWith('SIP/2.0 ') ? 'Status-Line' : 'Request-Line';
  rewrites.push(...diffLine(direction, startField, sent.startLine, received.startLine));
  const sentHeaders = groupBy(sent.headers, (header) => header.canonical, (header) => header.line);
  const receivedHeaders = groupBy(received.headers, (header) => header.canonical, (header) => header.line);
  rewrites.push(...diffGroups(direction, sentHeaders, receivedHeaders, (name) => name));
  const sdpType = (line: string) => line.slice(0, 2);
  const sentSdp = groupBy(sent.sdp, sdpType, (line) => line);
  const receivedSdp = groupBy(received.sdp, sdpType, (line) => line);
  rewrites.push(...diffGroups(direction, sentSdp, receivedSdp, (type) => `SDP ${type}`));
  return rewrites;
}

/** dedupeRewrites keeps the first of identical rewrites, in order. */
export function dedupeRewrites(rewrites: SipRewrite[]): SipRewrite[] {
  const seen = new Set<string>();
  return rewrites.filter((rewrite) => {
    const key = JSON.stringify([rewrite.direction, rewrite.field, rewrite.sent, rewrite.received]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function diffGroups(
  direction: SipRewrite['direction'],
  sent: Map<string, string[]>,
  received: Map<string, string[]>,
  field: (key: string) => string,
): SipRewrite[] {
  const rewrites: SipRewrite[] = [];
  for (const key of new Set([...sent.keys(), ...received.keys()])) {
    const before = sent.get(key) ?? [];
    const after = received.get(key) ?? [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      rewrites.push(...diffLine(direction, field(key), before[i] ?? '', after[i] ?? ''));
    }
  }
  return rewrites;
}

// Tokens are split at SIP/SDP delimiters but not at ':' so that an address:port stays one piece.
const DELIMITERS = /([\s;,<>@="]+)/;

/** diffLine reports the differing tokens of two lines, or the whole lines when their shape differs. */
function diffLine(direction: SipRewrite['direction'], field: string, sent: string, received: string): SipRewrite[] {
  if (sent === received) return [];
  const before = sent.split(DELIMITERS);
  const after = received.split(DELIMITERS);
  const sameShape = sent !== '' && received !== '' && before.length === after.length && before.every((token, i) => i % 2 === 0 || token === after[i]);
  if (!sameShape) return [{ direction, field, sent, received }];
  return before.flatMap((token, i) => (token === after[i] ? [] : [{ direction, field, sent: token, received: after[i]! }]));
}

function groupBy<T>(items: T[], key: (item: T) => string, value: (item: T) => string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const item of items) {
    const name = key(item);
    const list = groups.get(name) ?? [];
    list.push(value(item));
    groups.set(name, list);
  }
  return groups;
}

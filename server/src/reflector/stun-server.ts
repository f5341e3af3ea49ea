/**
 * The STUN reflector: answers Binding requests (RFC 8489) with the address they came from, and
 * implements the RFC 5780 NAT-behaviour tests (CHANGE-REQUEST, RESPONSE-PORT, RESPONSE-ORIGIN,
 * OTHER-ADDRESS) plus algwatch's ALGWATCH-RESPONSE-DELAY for the binding-lifetime probe.
 *
 * It answers unauthenticated UDP from anywhere, so it must never be an amplifier: malformed packets
 * and anything but a Binding request get no answer, and every datagram sent is paid from the
 * source's token bucket. Bytes sent per request (see byteBudget):
 * - a plain Binding request, what every STUN client sends: at most max(3 × request, 128 bytes),
 *   the size of an ordinary answer (RFC 5389 servers such as coturn answer with more);
 * - anything that asks for more than an answer to where it came from (CHANGE-REQUEST,
 *   RESPONSE-PORT, ALGWATCH-RESPONSE-DELAY): no more than the request itself, over every datagram
 *   it causes (a delayed request's acknowledgement and both copies of its answer). Clients pay for
 *   these with RFC 5780 PADDING in the request, as the algwatch agent does; an unpadded one that
 *   cannot be answered within its size gets no answer.
 *
 * Who pays: an unsigned request pays from its source address's bucket; a request signed with a
 * site's probe key (USERNAME + MESSAGE-INTEGRITY, see SignedProbes) pays from the site's bucket,
 * which spoofing the site's address cannot empty. When a signed request finds its site's bucket
 * empty, it gets a 508 "Busy" error response, smaller than the request, so the agent can say
 * "reflector busy" instead of "blocked".
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  MAGIC_COOKIE,
  STUN_HEADER_BYTES,
  STUN_METHOD_BINDING,
  STUN_ATTR,
  TRANSACTION_ID_BYTES,
  decodeStun,
  encodeStun,
  type StunAttributes,
  type StunMessage,
  type TransportAddress,
} from '@algwatch/protocol/stun';
import { ipLiteralLookup } from './ip-literal-lookup.js';
import { SourceRateLimiter } from './rate-limit.js';
import type { SignedProbes } from './signed-probes.js';
import { STUN_BUSY_CODE, STUN_BUSY_REASON } from '@algwatch/protocol/probe-signature';
import { DelayedAnswers } from './stun-delayed-answers.js';

export interface StunReflectorOptions {
  /** Primary address; must be a specific address (not 0.0.0.0) when altAddress is set. */
  bind: string;
  /** Second address of this host for RFC 5780 tests; without it OTHER-ADDRESS is never sent. */
  altAddress?: string;
  port: number;
  altPort: number;
  limiter?: SourceRateLimiter;
  /** Site keys and budgets for signed requests; without it every request pays from its address. */
  signedProbes?: SignedProbes;
  /** Longest ALGWATCH-RESPONSE-DELAY honoured; longer requests are capped. Default one hour. */
  maxDelayMs?: number;
  /** Delayed answers waiting per source IP; further delay requests are dropped. Default 2048. */
  maxPendingPerSource?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export interface StunReflectorStats {
  received: number;
  answered: number;
  dropped: number;
  pendingDelayed: number;
}

export interface StunReflector {
  close(): Promise<void>;
  readonly sockets: TransportAddress[];
  stats(): StunReflectorStats;
}

export const STUN_SOFTWARE = 'algwatch';
/** Responses never exceed max(AMPLIFICATION_FACTOR × request, MIN_RESPONSE_CAP) bytes. */
export const AMPLIFICATION_FACTOR = 3;
export const MIN_RESPONSE_CAP = 128;
const MAX_PENDING_TOTAL = 100_000;

interface Endpoint {
  socket: Socket;
  /** 0 primary, 1 alternate, for address and for port: RFC 5780's four (address, port) pairs. */
  addressIndex: 0 | 1;
  portIndex: 0 | 1;
  local: TransportAddress;
}

/**
 * A Binding success response ready to go: which socket sends it, where to, and what it reports.
 * Plain data (no closure per request): buildAnswer turns it into bytes, now or after a delay.
 */
interface PlannedAnswer {
  from: Endpoint;
  to: TransportAddress;
  /** The request's source: XOR-MAPPED-ADDRESS and MAPPED-ADDRESS. */
  source: TransportAddress;
  /** OTHER-ADDRESS, when this server has an alternate address. */
  other: Endpoint | null;
  transactionId: Buffer;
  requestBytes: number;
  /** The request carried PADDING (RFC 5780 §7.6): pad the response to the request's length. */
  padded: boolean;
  /** Largest this one answer may be (see byteBudget). */
  capBytes: number;
  /** The site whose budget pays for a signed request's answers; absent: the destination address pays. */
  siteId?: string;
}

/**
 * startStunReflector binds the reflector's UDP sockets: (bind, port), (bind, altPort) and, with an
 * alternate address, (alt, port), (alt, altPort). Rejects when a socket cannot be bound.
 */
export async function startStunReflector(options: StunReflectorOptions): Promise<StunReflector> {
  const wildcard = options.bind === '0.0.0.0' || options.bind === '::';
  if (options.altAddress && wildcard) {
    throw new Error('STUN: --bind must be a specific address when --alt-address is set (RFC 5780 needs to know which address answered)');
  }
  if (options.port !== 0 && options.port === options.altPort) throw new Error('STUN: the alternate port must differ from the STUN port');
  const limiter = options.limiter ?? new SourceRateLimiter({ ratePerSecond: 200, burst: 400, maxSources: 100_000 });
  const log = options.log ?? (() => {});
  const counters = { received: 0, answered: 0, dropped: 0 };
  const endpoints: Endpoint[][] = [[], []];
  const send = (answer: Buffer, from: Endpoint, to: TransportAddress, siteId?: string) => {
    if (!(siteId !== undefined && options.signedProbes ? options.signedProbes.allow(siteId) : limiter.allow(to.address))) {
      counters.dropped++;
      return;
    }
    counters.answered++;
    // No callback: without one, dgram first tries a synchronous send (uv_udp_try_send), which is the
    // difference between a reflector at 75 % and at par with a bare echo. A failed send is emitted
    // as the socket's 'error' event, which is logged below.
    from.socket.send(answer, to.port, to.address);
  };
  const delayed = new DelayedAnswers<PlannedAnswer>({
    maxPendingPerSource: options.maxPendingPerSource ?? 2048,
    maxPendingTotal: MAX_PENDING_TOTAL,
    send: (answer) => {
      const bytes = buildAnswer(answer, 0);
      if (bytes) send(bytes, answer.from, answer.to, answer.siteId);
    },
  });
  const maxDelayMs = options.maxDelayMs ?? 3_600_000;

  const onMessage = (endpoint: Endpoint, packet: Buffer, rinfo: RemoteInfo) => {
    counters.received++;
    const source = { address: rinfo.address, port: rinfo.port };
    if (isPlainBindingRequest(packet)) {
      // The common case (no attributes): decoding would find nothing to honour, so skip building
      // the message object. The answer is the same as the general path's below.
      const bytes = buildAnswer(plainAnswer(packet, source, endpoint, endpoints), undefined);
      if (bytes) send(bytes, endpoint, source);
      else counters.dropped++;
      return;
    }
    const decoded = decodeStun(packet);
    if (!decoded.ok || decoded.message.class !== 'request' || decoded.message.method !== STUN_METHOD_BINDING) {
      counters.dropped++;
      return;
    }
    const request = decoded.message;
    const payer = options.signedProbes?.ofStun(packet, request);
    const siteId = payer?.signed ? payer.siteId : undefined;
    if (siteId !== undefined && options.signedProbes?.exhausted(siteId)) {
      // The site spent its budget: say so (smaller than the request), paid by nobody's budget since
      // only a holder of the site's key can cause it, and it goes back to the signed request's source.
      const busy = encodeStun(
        { method: STUN_METHOD_BINDING, class: 'error', transactionId: request.transactionId },
        { errorCode: { code: STUN_BUSY_CODE, reason: STUN_BUSY_REASON } },
      );
      if (busy.length <= packet.length) {
        counters.answered++;
        endpoint.socket.send(busy, source.port, source.address);
      } else counters.dropped++;
      return;
    }
    const budget = byteBudget(request, packet.length);
    const plan = planAnswer(request, packet.length, budget, source, endpoint, endpoints, siteId);
    if (plan.kind === 'error') {
      const bytes = capped(budget, (software) =>
        encodeStun(
          { method: STUN_METHOD_BINDING, class: 'error', transactionId: request.transactionId },
          { errorCode: { code: 420, reason: 'Unknown Attribute' }, unknownAttributes: plan.unknown, ...(software ? { software: STUN_SOFTWARE } : {}) },
        ),
      );
      if (bytes) send(bytes, endpoint, source, siteId);
      else counters.dropped++;
      return;
    }
    const delayMs = Math.min(request.responseDelayMs ?? 0, maxDelayMs);
    if (delayMs === 0) {
      const bytes = buildAnswer(plan.answer, request.responseDelayMs === undefined ? undefined : 0);
      if (bytes) send(bytes, plan.answer.from, plan.answer.to, siteId);
      else counters.dropped++;
      return;
    }
    // Acknowledge now (so the client stops retransmitting and knows the server honours the delay),
    // then answer again after the delay, twice (see DelayedAnswers); a retransmitted request restarts
    // the wait. The request's bytes pay for all three: the acknowledgement as small as an answer
    // can be, the two copies of the answer each within half of what is left.
    const ack = buildAnswer({ ...plan.answer, padded: false, capBytes: budget }, delayMs, ANSWER_LEVELS.length - 1);
    const later: PlannedAnswer = { ...plan.answer, padded: false, capBytes: ack ? Math.floor((budget - ack.length) / 2) : 0 };
    if (!ack || !buildAnswer(later, 0)) {
      counters.dropped++;
      return;
    }
    if (!delayed.schedule(`${rinfo.address}|${rinfo.port}|${request.transactionId.toString('hex')}`, rinfo.address, delayMs, later)) {
      counters.dropped++;
      return;
    }
    send(ack, plan.answer.from, plan.answer.to, siteId);
  };

  const bindOne = async (address: string, port: number, addressIndex: 0 | 1, portIndex: 0 | 1) => {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', lookup: ipLiteralLookup });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const endpoint: Endpoint = { socket, addressIndex, portIndex, local: { address, port: socket.address().port } };
    socket.on('error', (err) => log('stun_socket_error', { local: `${address}:${endpoint.local.port}`, error: err.message }));
    socket.on('message', (packet, rinfo) => {
      try {
        onMessage(endpoint, packet, rinfo);
      } catch (err) {
        counters.dropped++; // a bug must cost one answer, never the process
        log('stun_handler_failed', { from: `${rinfo.address}:${rinfo.port}`, error: err instanceof Error ? err.message : String(err) });
      }
    });
    endpoints[addressIndex]![portIndex] = endpoint;
    return endpoint;
  };

  const bound: Endpoint[] = [];
  try {
    const primary = await bindOne(options.bind, options.port, 0, 0);
    bound.push(primary);
    const alternatePort = await bindOne(options.bind, options.altPort, 0, 1);
    bound.push(alternatePort);
    if (options.altAddress) {
      // Same port numbers on the second address: RFC 5780 §4.3 compares "alternate address, primary port".
      bound.push(await bindOne(options.altAddress, primary.local.port, 1, 0));
      bound.push(await bindOne(options.altAddress, alternatePort.local.port, 1, 1));
    }
  } catch (err) {
    for (const endpoint of bound) endpoint.socket.close();
    throw err;
  }

  let closed = false;
  return {
    sockets: bound.map((endpoint) => ({ ...endpoint.local })),
    stats: () => ({ ...counters, pendingDelayed: delayed.size }),
    close: async () => {
      if (closed) return;
      closed = true;
      delayed.clear();
      await Promise.all(bound.map((endpoint) => new Promise<void>((resolve) => endpoint.socket.close(() => resolve()))));
    },
  };
}

type Plan = { kind: 'answer'; answer: PlannedAnswer } | { kind: 'error'; unknown: number[] };

/**
 * byteBudget is how many bytes a request may cause to be sent: max(3×, 128 bytes) for a request that
 * only asks where it came from, the request's own size for one that asks for more (an answer from
 * elsewhere, to elsewhere, or later): those are what a reflection attack would use.
 */
export function byteBudget(request: StunMessage, requestBytes: number): number {
  const asksForMore = request.changeRequest !== undefined || request.responsePort !== undefined || request.responseDelayMs !== undefined;
  return asksForMore ? requestBytes : Math.max(requestBytes * AMPLIFICATION_FACTOR, MIN_RESPONSE_CAP);
}

/** planAnswer decides which socket answers, where to, and with what (RFC 5780 §6.1). */
function planAnswer(
  request: StunMessage,
  requestBytes: number,
  capBytes: number,
  source: TransportAddress,
  via: Endpoint,
  endpoints: Endpoint[][],
  siteId: string | undefined,
): Plan {
  if (request.unknownRequired.length > 0) return { kind: 'error', unknown: request.unknownRequired.slice(0, 16) };
  const other = otherEndpoint(via, endpoints);
  const changeIp = request.changeRequest?.changeIp ?? false;
  const changePort = request.changeRequest?.changePort ?? false;
  // RFC 5780 §6.1: a server that cannot change its address answers 420 naming CHANGE-REQUEST.
  if (changeIp && !other) return { kind: 'error', unknown: [STUN_ATTR.CHANGE_REQUEST] };
  const from = endpoints[changeIp ? 1 - via.addressIndex : via.addressIndex]![changePort ? 1 - via.portIndex : via.portIndex]!;
  // RFC 5780 §7.5: RESPONSE-PORT sends the answer to that port of the same source IP.
  const to = request.responsePort !== undefined ? { address: source.address, port: request.responsePort } : source;
  const answer: PlannedAnswer = {
    from, to, source, other, transactionId: request.transactionId, requestBytes, padded: request.paddingBytes !== undefined, capBytes,
    ...(siteId !== undefined ? { siteId } : {}),
  };
  return { kind: 'answer', answer };
}

/** otherEndpoint is the RFC 5780 §7.4 OTHER-ADDRESS (alternate address and port), null without an alternate address. */
function otherEndpoint(via: Endpoint, endpoints: Endpoint[][]): Endpoint | null {
  return endpoints[1]!.length === 2 ? endpoints[1 - via.addressIndex]![1 - via.portIndex]! : null;
}

/**
 * isPlainBindingRequest is true for a 20-byte Binding request without attributes (RFC 8489 §5:
 * type 0x0001, length 0, the magic cookie): exactly what decodeStun reads as a Binding request
 * with nothing to honour.
 */
function isPlainBindingRequest(packet: Buffer): boolean {
  return packet.length === STUN_HEADER_BYTES && packet.readUInt32BE(0) === 0x0001_0000 && packet.readUInt32BE(4) === MAGIC_COOKIE;
}

/** plainAnswer is planAnswer's result for a plain Binding request: answered from where it came in. */
function plainAnswer(packet: Buffer, source: TransportAddress, via: Endpoint, endpoints: Endpoint[][]): PlannedAnswer {
  const transactionId = Buffer.allocUnsafe(TRANSACTION_ID_BYTES); // a copy: the datagram's memory is not ours to keep
  packet.copy(transactionId, 0, 8, STUN_HEADER_BYTES);
  const capBytes = Math.max(packet.length * AMPLIFICATION_FACTOR, MIN_RESPONSE_CAP);
  return { from: via, to: source, source, other: otherEndpoint(via, endpoints), transactionId, requestBytes: packet.length, padded: false, capBytes };
}

/**
 * What an answer carries, richest first: each level drops what its clients need least (SOFTWARE;
 * MAPPED-ADDRESS, read only by RFC 3489 clients; RESPONSE-ORIGIN and OTHER-ADDRESS, read only by
 * RFC 5780 tests). XOR-MAPPED-ADDRESS stays: it is the answer.
 */
const ANSWER_LEVELS = [
  { software: true, mapped: true, rfc5780: true },
  { software: false, mapped: true, rfc5780: true },
  { software: false, mapped: false, rfc5780: true },
  { software: false, mapped: false, rfc5780: false },
] as const;

/**
 * buildAnswer encodes the Binding success response, with ALGWATCH-RESPONSE-DELAY when
 * responseDelayMs is set, as rich as fits answer.capBytes starting at level `from`; null when even
 * the leanest does not fit.
 */
function buildAnswer(answer: PlannedAnswer, responseDelayMs: number | undefined, from = 0): Buffer | null {
  for (const level of ANSWER_LEVELS.slice(from)) {
    const response = encodeAnswer(answer, responseDelayMs, level);
    if (response.length <= answer.capBytes) return response;
  }
  return null;
}

function encodeAnswer(answer: PlannedAnswer, responseDelayMs: number | undefined, level: (typeof ANSWER_LEVELS)[number]): Buffer {
  const local = answer.from.local;
  const attributes: StunAttributes = { xorMappedAddress: answer.source };
  if (level.mapped) attributes.mappedAddress = answer.source;
  if (level.rfc5780 && local.address !== '0.0.0.0' && local.address !== '::') attributes.responseOrigin = local; // unknown when bound to a wildcard
  if (level.rfc5780 && answer.other) attributes.otherAddress = answer.other.local;
  if (responseDelayMs !== undefined) attributes.responseDelayMs = responseDelayMs;
  if (level.software) attributes.software = STUN_SOFTWARE;
  const header = { method: STUN_METHOD_BINDING, class: 'success', transactionId: answer.transactionId } as const;
  const response = encodeStun(header, attributes);
  if (!answer.padded) return response;
  // RFC 5780 §6.1, §7.6: with PADDING in the request, pad the response to the request's length (never beyond).
  attributes.paddingBytes = Math.max(0, (Math.min(answer.requestBytes, answer.capBytes) - response.length - 4) & ~3);
  return encodeStun(header, attributes);
}

/**
 * capped builds the richest response that fits the amplification cap, dropping SOFTWARE first and
 * then MAPPED-ADDRESS (only RFC 3489 clients read it); null when even the minimum does not fit.
 */
function capped(cap: number, build: (software: boolean, mapped: boolean) => Buffer): Buffer | null {
  for (const [software, mapped] of [[true, true], [false, true], [false, false]] as const) {
    const response = build(software, mapped);
    if (response.length <= cap) return response;
  }
  return null;
}

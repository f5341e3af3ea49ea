/**
 * The STUN reflector: answers Binding requests (RFC 8489) with the address they came from, and
 * implements the RFC 5780 NAT-behaviour tests (CHANGE-REQUEST, RESPONSE-PORT, RESPONSE-ORIGIN,
 * OTHER-ADDRESS) plus algwatch's ALGWATCH-RESPONSE-DELAY for the binding-lifetime probe.
 *
 * It answers unauthenticated UDP from anywhere, so it must never be an amplifier: malformed packets
 * and anything but a Binding request get no answer, every datagram sent is paid from the source's
 * token bucket, and a response is never larger than max(3 × request, 128 bytes).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  STUN_METHOD_BINDING,
  STUN_ATTR,
  decodeStun,
  encodeStun,
  type StunAttributes,
  type StunMessage,
  type TransportAddress,
} from '@algwatch/protocol/stun';
import { SourceRateLimiter } from './rate-limit.js';
import { DelayedAnswers } from './stun-delayed-answers.js';

export interface StunReflectorOptions {
  /** Primary address; must be a specific address (not 0.0.0.0) when altAddress is set. */
  bind: string;
  /** Second address of this host for RFC 5780 tests; without it OTHER-ADDRESS is never sent. */
  altAddress?: string;
  port: number;
  altPort: number;
  limiter?: SourceRateLimiter;
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

/** A response ready to go: which socket sends it, where to, and how to build it. */
interface PlannedAnswer {
  from: Endpoint;
  to: TransportAddress;
  build(extra: StunAttributes): Buffer | null;
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
  const send = (answer: Buffer, from: Endpoint, to: TransportAddress) => {
    if (!limiter.allow(to.address)) {
      counters.dropped++;
      return;
    }
    counters.answered++;
    from.socket.send(answer, to.port, to.address, (err) => {
      if (err) log('stun_send_failed', { to: `${to.address}:${to.port}`, error: err.message });
    });
  };
  const delayed = new DelayedAnswers<PlannedAnswer>({
    maxPendingPerSource: options.maxPendingPerSource ?? 2048,
    maxPendingTotal: MAX_PENDING_TOTAL,
    send: (answer) => {
      const bytes = answer.build({ responseDelayMs: 0 });
      if (bytes) send(bytes, answer.from, answer.to);
    },
  });
  const maxDelayMs = options.maxDelayMs ?? 3_600_000;

  const onMessage = (endpoint: Endpoint, packet: Buffer, rinfo: RemoteInfo) => {
    counters.received++;
    const decoded = decodeStun(packet);
    if (!decoded.ok || decoded.message.class !== 'request' || decoded.message.method !== STUN_METHOD_BINDING) {
      counters.dropped++;
      return;
    }
    const request = decoded.message;
    const source = { address: rinfo.address, port: rinfo.port };
    const plan = planAnswer(request, packet.length, source, endpoint, endpoints);
    if (plan.kind === 'error') {
      const bytes = capped(packet.length, (software) =>
        encodeStun(
          { method: STUN_METHOD_BINDING, class: 'error', transactionId: request.transactionId },
          { errorCode: { code: 420, reason: 'Unknown Attribute' }, unknownAttributes: plan.unknown, ...(software ? { software: STUN_SOFTWARE } : {}) },
        ),
      );
      if (bytes) send(bytes, endpoint, source);
      else counters.dropped++;
      return;
    }
    const delayMs = Math.min(request.responseDelayMs ?? 0, maxDelayMs);
    if (delayMs === 0) {
      const bytes = plan.answer.build(request.responseDelayMs === undefined ? {} : { responseDelayMs: 0 });
      if (bytes) send(bytes, plan.answer.from, plan.answer.to);
      else counters.dropped++;
      return;
    }
    // Acknowledge now (so the client stops retransmitting and knows the server honours the delay),
    // then answer again after the delay; a retransmitted request restarts the wait (see DelayedAnswers).
    if (!delayed.schedule(`${rinfo.address}|${rinfo.port}|${request.transactionId.toString('hex')}`, rinfo.address, delayMs, plan.answer)) {
      counters.dropped++;
      return;
    }
    const ack = plan.answer.build({ responseDelayMs: delayMs });
    if (ack) send(ack, plan.answer.from, plan.answer.to);
  };

  const bindOne = async (address: string, port: number, addressIndex: 0 | 1, portIndex: 0 | 1) => {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
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

/** planAnswer decides which socket answers, where to, and with what (RFC 5780 §6.1). */
function planAnswer(request: StunMessage, requestBytes: number, source: TransportAddress, via: Endpoint, endpoints: Endpoint[][]): Plan {
  if (request.unknownRequired.length > 0) return { kind: 'error', unknown: request.unknownRequired.slice(0, 16) };
  const hasAlt = endpoints[1]!.length === 2;
  const change = request.changeRequest ?? { changeIp: false, changePort: false };
  // RFC 5780 §6.1: a server that cannot change its address answers 420 naming CHANGE-REQUEST.
  if (change.changeIp && !hasAlt) return { kind: 'error', unknown: [STUN_ATTR.CHANGE_REQUEST] };
  const flip = (index: 0 | 1, changed: boolean) => (changed ? ((1 - index) as 0 | 1) : index);
  const from = endpoints[flip(via.addressIndex, change.changeIp)]![flip(via.portIndex, change.changePort)]!;
  const other = hasAlt ? endpoints[1 - via.addressIndex]![1 - via.portIndex]! : null;
  // RFC 5780 §7.5: RESPONSE-PORT sends the answer to that port of the same source IP.
  const to = request.responsePort !== undefined ? { address: source.address, port: request.responsePort } : source;
  const wildcard = from.local.address === '0.0.0.0' || from.local.address === '::';
  const build = (extra: StunAttributes) =>
    capped(requestBytes, (software, mapped) => {
      const attributes: StunAttributes = {
        xorMappedAddress: source,
        ...(mapped ? { mappedAddress: source } : {}),
        ...(wildcard ? {} : { responseOrigin: from.local }), // unknown when bound to a wildcard
        ...(other ? { otherAddress: other.local } : {}),
        ...extra,
        ...(software ? { software: STUN_SOFTWARE } : {}),
      };
      const response = encodeStun({ method: STUN_METHOD_BINDING, class: 'success', transactionId: request.transactionId }, attributes);
      if (request.paddingBytes === undefined) return response;
      // RFC 5780 §6.1, §7.6: with PADDING in the request, pad the response to the request's length (never beyond).
      const room = requestBytes - response.length - 4;
      return encodeStun(
        { method: STUN_METHOD_BINDING, class: 'success', transactionId: request.transactionId },
        { ...attributes, paddingBytes: Math.max(0, room & ~3) },
      );
    });
  return { kind: 'answer', answer: { from, to, build } };
}

/**
 * capped builds the richest response that fits the amplification cap, dropping SOFTWARE first and
 * then MAPPED-ADDRESS (only RFC 3489 clients read it); null when even the minimum does not fit.
 */
function capped(requestBytes: number, build: (software: boolean, mapped: boolean) => Buffer): Buffer | null {
  const cap = Math.max(requestBytes * AMPLIFICATION_FACTOR, MIN_RESPONSE_CAP);
  for (const [software, mapped] of [[true, true], [false, true], [false, false]] as const) {
    const response = build(software, mapped);
    if (response.length <= cap) return response;
  }
  return null;
}

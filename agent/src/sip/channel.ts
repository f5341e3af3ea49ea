/**
 * SipChannel is one UDP socket, TCP connection or TLS connection to a SIP server, over which the
 * agent sends requests and matches their responses. Requests are written only after the channel
 * is open, because they must carry its local address and port (see requests.ts).
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { SipTransport } from '@algwatch/protocol/check-report';
import { parseSipMessage, parseVia, sipHeaderValue, SipStreamFramer, splitHeaderList, viaParam, type SipMessage } from '@algwatch/protocol/sip';
import type { SipOutgoingRequest } from './requests.js';

/** RFC 3261 §17.1.1.1 T1 and T2: the UDP retransmission interval starts at T1 and doubles up to T2. */
const T1_MS = 500;
const T2_MS = 4_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface SipChannelOptions {
  transport: SipTransport;
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** TLS only: verify the server certificate (off by default: the reflector's is self-signed). */
  rejectUnauthorized?: boolean;
  signal?: AbortSignal;
}

/** SipExchange is how one request ended: a final response, silence, or a lost connection. */
export type SipExchange =
  | { kind: 'response'; response: SipMessage; bytes: Buffer; rttMs: number; sends: number }
  | { kind: 'timeout'; sends: number }
  | { kind: 'closed'; reason: string };

export type SipPingOutcome = { kind: 'pong'; rttMs: number } | { kind: 'timeout' } | { kind: 'closed'; reason: string };

/** SipChannelError is a channel that could not be opened; `blocked` is false for TLS-level failures. */
export class SipChannelError extends Error {
  constructor(message: string, readonly blocked: boolean) {
    super(message);
  }
}

export interface SipChannel {
  readonly transport: SipTransport;
  readonly localAddress: string;
  readonly localPort: number;
  /** The server's resolved address the channel talks to. */
  readonly remoteAddress: string;
  /** request sends (retransmitting on UDP) and resolves with the final response or the reason there is none. */
  request(request: SipOutgoingRequest<string>, timeoutMs: number): Promise<SipExchange>;
  /** ping sends an RFC 5626 CRLFCRLF keep-alive (TCP/TLS only) and resolves with how it ended. */
  ping(timeoutMs: number): Promise<SipPingOutcome>;
  close(): void;
}

interface Waiter {
  matches(message: SipMessage): boolean;
  /** Called with the matching response, or with null when the channel failed. */
  deliver(answer: { response: SipMessage; bytes: Buffer } | null): void;
}

/** openSipChannel opens the channel; it rejects with a one-line SipChannelError when it cannot. */
export async function openSipChannel(options: SipChannelOptions): Promise<SipChannel> {
  const where = `${options.host}:${options.port}`;
  let address: string;
  try {
    address = net.isIP(options.host) ? options.host : (await lookup(options.host)).address;
  } catch (err) {
    throw new SipChannelError(`cannot resolve ${options.host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, false);
  }
  return options.transport === 'udp' ? openUdp(address, options, where) : openStream(address, options, where);
}

async function openUdp(address: string, options: SipChannelOptions, where: string): Promise<SipChannel> {
  // The address is already an IP literal: answering dgram's lookups at once saves bind() and
  // connect() a trip through dns.lookup and the event loop each.
  const socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4', lookup: ipLiteralLookup });
  const waiters = new Set<Waiter>();
  let failure: string | null = null;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    socket.close();
    // Requests still waiting end now ("socket closed"), their retransmit and deadline timers with them.
    for (const waiter of waiters) waiter.deliver(null);
  };
  socket.on('error', (err: NodeJS.ErrnoException) => {
    // A connected UDP socket reports ICMP port/host unreachable as ECONNREFUSED/EHOSTUNREACH.
    failure = `${err.code === 'ECONNREFUSED' ? 'ICMP port unreachable' : (err.code ?? err.message)} from ${where}`;
    for (const waiter of waiters) waiter.deliver(null);
  });
  socket.on('message', (bytes) => dispatch(waiters, bytes));
  options.signal?.addEventListener('abort', close, { once: true });
  // connect() makes the kernel pick the source address and port now, so requests can carry them.
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(options.port, address, () => { socket.off('error', reject); resolve(); });
  }).catch((err: NodeJS.ErrnoException) => {
    close();
    throw new SipChannelError(`cannot send UDP to ${where}: ${err.code ?? err.message}`, true);
  });
  const local = socket.address();
  return {
    transport: 'udp',
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: address,
    close,
    ping: async () => ({ kind: 'closed', reason: 'keep-alive pings need TCP or TLS' }),
    request: (request, timeoutMs) =>
      new Promise<SipExchange>((resolve) => {
        const started = performance.now();
        const bytes = Buffer.from(request.text, 'latin1');
        let sends = 0;
        let interval = T1_MS;
        let retransmit: NodeJS.Timeout | undefined;
        const finish = (exchange: SipExchange) => {
          clearTimeout(retransmit);
          clearTimeout(deadline);
          waiters.delete(waiter);
          resolve(exchange);
        };
        const waiter: Waiter = {
          matches: (message) => answers(message, request),
          deliver: (answer) =>
            finish(answer === null
              ? { kind: 'closed', reason: failure ?? 'socket closed' }
              : { kind: 'response', ...answer, rttMs: performance.now() - started, sends }),
        };
        const send = () => {
          if (closed || failure !== null) return;
          sends++;
          socket.send(bytes);
          // RFC 3261 §17.1.2.2 Timer E: retransmit at T1, 2·T1, 4·T1... capped at T2.
          retransmit = setTimeout(send, interval);
          interval = Math.min(interval * 2, T2_MS);
        };
        const deadline = setTimeout(() => finish({ kind: 'timeout', sends }), timeoutMs);
        if (failure !== null) return finish({ kind: 'closed', reason: failure });
        waiters.add(waiter);
        send();
      }),
  };
}

async function openStream(address: string, options: SipChannelOptions, where: string): Promise<SipChannel> {
  const isTls = options.transport === 'tls';
  const socket: net.Socket = await new Promise<net.Socket>((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new SipChannelError(`${isTls ? 'TLS' : 'TCP'} connect to ${where} timed out after ${options.connectTimeoutMs} ms`, true)); }, options.connectTimeoutMs);
    const connectEvent = isTls ? 'secureConnect' : 'connect';
    const socket = isTls
      ? tls.connect({ host: address, port: options.port, rejectUnauthorized: options.rejectUnauthorized ?? false, ...(net.isIP(options.host) ? {} : { servername: options.host }) })
      : net.connect({ host: address, port: options.port });
    let tcpUp = false;
    socket.once('connect', () => { tcpUp = true; });
    socket.once(connectEvent, () => { clearTimeout(timer); socket.removeAllListeners('error'); resolve(socket); });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      // Refused, reset or unreachable: something stops SIP on the path. A TLS failure after TCP came up is not that.
      const blocked = !isTls || !tcpUp || err.code === 'ECONNRESET';
      const what = blocked ? `${isTls ? 'TLS' : 'TCP'} connect to ${where} failed` : `TLS handshake with ${where} failed`;
      reject(new SipChannelError(`${what}: ${err.code ?? err.message}`, blocked));
    });
    options.signal?.addEventListener('abort', () => socket.destroy(), { once: true });
  });

  const waiters = new Set<Waiter>();
  const pongWaiters = new Set<(pong: boolean) => void>();
  let closedReason: string | null = null;
  const framer = new SipStreamFramer(MAX_RESPONSE_BYTES);
  socket.on('data', (chunk: Buffer) => {
    for (const item of framer.push(chunk)) {
      if (item.kind === 'message') dispatch(waiters, item.bytes);
      else if (item.kind === 'pong') for (const waiter of pongWaiters) waiter(true);
      else if (item.kind === 'invalid') socket.destroy();
    }
  });
  const onGone = (reason: string) => {
    if (closedReason !== null) return;
    closedReason = reason;
    for (const waiter of waiters) waiter.deliver(null);
    for (const waiter of pongWaiters) waiter(false);
  };
  socket.on('error', (err: NodeJS.ErrnoException) => onGone(`connection to ${where} failed: ${err.code ?? err.message}`));
  socket.on('close', () => onGone(`${where} closed the connection`));
  socket.on('end', () => onGone(`${where} closed the connection`));

  return {
    transport: options.transport,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    remoteAddress: address,
    close: () => socket.destroy(),
    request: (request, timeoutMs) =>
      new Promise<SipExchange>((resolve) => {
        if (closedReason !== null) return resolve({ kind: 'closed', reason: closedReason });
        const started = performance.now();
        const finish = (exchange: SipExchange) => {
          clearTimeout(deadline);
          waiters.delete(waiter);
          resolve(exchange);
        };
        const waiter: Waiter = {
          matches: (message) => answers(message, request),
          deliver: (answer) =>
            finish(answer === null
              ? { kind: 'closed', reason: closedReason ?? 'connection closed' }
              : { kind: 'response', ...answer, rttMs: performance.now() - started, sends: 1 }),
        };
        // RFC 3261 §17.1.2.2: no retransmission over a reliable transport, only Timer F.
        const deadline = setTimeout(() => finish({ kind: 'timeout', sends: 1 }), timeoutMs);
        waiters.add(waiter);
        socket.write(Buffer.from(request.text, 'latin1'));
      }),
    ping: (timeoutMs) =>
      new Promise<SipPingOutcome>((resolve) => {
        if (closedReason !== null) return resolve({ kind: 'closed', reason: closedReason });
        const started = performance.now();
        const done = (outcome: SipPingOutcome) => {
          clearTimeout(deadline);
          pongWaiters.delete(onPong);
          resolve(outcome);
        };
        const onPong = (pong: boolean) =>
          done(pong ? { kind: 'pong', rttMs: performance.now() - started } : { kind: 'closed', reason: closedReason ?? 'connection closed' });
        const deadline = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
        pongWaiters.add(onPong);
        socket.write('\r\n\r\n');
      }),
  };
}

/**
 * ipLiteralLookup is dgram's lookup for a socket that only ever sees IP literals (the bind
 * wildcard and the resolved peer address): it answers synchronously, and falls back to
 * dns.lookup for anything else.
 */
function ipLiteralLookup(hostname: string, options: dns.LookupOneOptions | number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = net.isIP(hostname);
  if (family === 0) {
    dns.lookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
    return;
  }
  callback(null, hostname, family);
}

/** dispatch hands a received message to the request it answers; 1xx and strays are ignored. */
function dispatch(waiters: Set<Waiter>, bytes: Buffer): void {
  const message = parseSipMessage(bytes);
  if (!message?.response || message.response.statusCode < 200) return;
  for (const waiter of waiters) {
    if (waiter.matches(message)) {
      waiter.deliver({ response: message, bytes });
      return;
    }
  }
}

/** RFC 3261 §17.1.3: a response matches the client transaction by top Via branch and CSeq method. */
function answers(response: SipMessage, request: SipOutgoingRequest<string>): boolean {
  const topVia = splitHeaderList(sipHeaderValue(response, 'Via') ?? '')[0];
  const via = topVia === undefined ? null : parseVia(topVia);
  return via !== null && viaParam(via, 'branch') === request.branch && sipHeaderValue(response, 'CSeq')?.trim() === request.cseq;
}

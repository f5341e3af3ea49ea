/**
 * The SIP reflector: UDP, TCP and TLS listeners that answer algwatch probe requests with a 200 OK
 * carrying inbound canaries and the echo (see protocol/src/sip-echo.ts), answer ordinary OPTIONS
 * keep-alives with a plain 200 OK, and answer RFC 5626 CRLFCRLF pings with a CRLF pong.
 *
 * It is exposed to the whole Internet, so: no answer to garbage (and no crash), no UDP reply
 * larger than MAX_UDP_AMPLIFICATION times its request, nothing for a source over its rate budget,
 * and bounded connections, idle time, message size and buffers on TCP/TLS.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { SipTransport } from '@algwatch/protocol/check-report';
import { DEFAULT_MAX_SIP_MESSAGE_BYTES, SipStreamFramer } from '@algwatch/protocol/sip';
import { ipLiteralLookup } from './ip-literal-lookup.js';
import type { SourceRateLimiter } from './rate-limit.js';
import { SIP_SIGNATURE_HEADER } from '@algwatch/protocol/probe-signature';
import { busyReplyToSipRequest, replyToSipRequest, type SipReply, type SipSource } from './sip-reply.js';
import type { SignedProbes } from './signed-probes.js';
import type { RtpSessions } from './rtp-sessions.js';
import { StreamSlots } from './stream-slots.js';

export interface SipReflectorOptions {
  /** Address to listen on (`0.0.0.0`, `::` or one address). */
  bind: string;
  /** 0 picks an ephemeral port; the real one is in SipReflector.ports. */
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  tls: { key: string; cert: string };
  /** Every request and ping is paid for from its source address's bucket... */
  limiter?: SourceRateLimiter;
  /**
   * ...except a request signed with a site's probe key (X-Algwatch-Signature), which pays from its
   * site's bucket; when that is empty it is answered 503 with a short Retry-After ("busy").
   */
  signedProbes?: SignedProbes;
  /** Connection slots of TCP and TLS together (DEFAULT_MAX_STREAM_CONNECTIONS); see StreamSlots. */
  maxConnections?: number;
  /** A TCP/TLS connection that sent no SIP request for this long is closed; CRLF pings do not count (default 120 s). */
  idleTimeoutMs?: number;
  /** A TCP/TLS connection must send its first SIP request this soon after connecting (default 5 s). */
  firstRequestMs?: number;
  /** Connections one source address may hold over TCP and TLS together (default 32). */
  maxConnectionsPerSource?: number;
  /** Time a TCP/TLS message may take from its first byte to its last (default 30 s). */
  messageDeadlineMs?: number;
  /** Largest SIP message accepted; default 16 KiB. */
  maxMessageBytes?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** The rtp-path probe's sessions: INVITE and BYE marked X-Algwatch-Rtp go to them. */
  rtp?: RtpSessions;
}

export interface SipReflector {
  close(): Promise<void>;
  readonly ports: { udp: number; tcp: number; tls: number };
}

/** A UDP reply is never more than this many times the size of the request that caused it. */
export const MAX_UDP_AMPLIFICATION = 3;
export const DEFAULT_MAX_CONNECTIONS_PER_SOURCE = 32;
export const DEFAULT_MESSAGE_DEADLINE_MS = 30_000;
export const DEFAULT_MAX_STREAM_CONNECTIONS = 1024;
export const DEFAULT_FIRST_REQUEST_MS = 5_000;
/** A connection whose peer does not read its replies is closed past this many unsent bytes. */
const MAX_PENDING_WRITE_BYTES = 64 * 1024;
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** A cheap test before parsing: only messages naming the rtp-path header can be its requests. */
const RTP_MARK = Buffer.from('X-Algwatch-Rtp', 'latin1');

/**
 * startSipReflector listens on the three transports and resolves once all are bound; it rejects
 * (after releasing what it bound) when one cannot be, e.g. the port is in use.
 */
export async function startSipReflector(options: SipReflectorOptions): Promise<SipReflector> {
  const log = options.log ?? (() => {});
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_SIP_MESSAGE_BYTES;
  const idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
  const allow = (address: string) => options.limiter?.allow(address) ?? true;
  /** payFor says whether to answer `request` as usual, with a 503 "busy" (its site's budget is empty), or not at all. */
  const payFor = (request: Buffer, address: string): 'answer' | 'busy' | 'drop' => {
    const payer = options.signedProbes?.ofSip(signatureHeader(request));
    if (payer?.signed) return options.signedProbes?.allow(payer.siteId) ? 'answer' : 'busy';
    return allow(address) ? 'answer' : 'drop';
  };
  const reply = (request: Buffer, source: SipSource, payment: 'answer' | 'busy') =>
    payment === 'busy' ? busyReplyToSipRequest(request, source) : replyToSipRequest(request, source);
  const messageDeadlineMs = options.messageDeadlineMs ?? DEFAULT_MESSAGE_DEADLINE_MS;
  const slots = new StreamSlots({
    maxConnections: options.maxConnections ?? DEFAULT_MAX_STREAM_CONNECTIONS,
    maxPerSource: options.maxConnectionsPerSource ?? DEFAULT_MAX_CONNECTIONS_PER_SOURCE,
    firstRequestMs: options.firstRequestMs ?? DEFAULT_FIRST_REQUEST_MS,
    idleTimeoutMs,
    log,
  });
  // Slots are taken by the raw TCP connection, before any TLS handshake: a handshake that never
  // finishes holds a slot like any other connection that sends no SIP.
  const admit = (socket: net.Socket) => {
    socket.on('error', () => socket.destroy());
    slots.admit(socket, plainAddress(socket.remoteAddress ?? ''));
  };

  const onUdpMessage = (packet: Buffer, remote: dgram.RemoteInfo) => {
    const source: SipSource = { transport: 'udp', address: plainAddress(remote.address), port: remote.port };
    if (packet.length > maxMessageBytes) return;
    const payment = payFor(packet, source.address);
    if (payment === 'drop') return;
    if (payment === 'answer' && options.rtp && packet.includes(RTP_MARK)) {
      void options.rtp.answer(packet, source).then((handled) => sendUdpReply(handled === undefined ? reply(packet, source, payment) : handled, packet, remote, source, payment));
      return;
    }
    sendUdpReply(reply(packet, source, payment), packet, remote, source, payment);
  };
  const sendUdpReply = (answer: SipReply | null, packet: Buffer, remote: dgram.RemoteInfo, source: SipSource, payment: 'answer' | 'busy') => {
    if (!answer) {
      log('sip.ignored', { transport: 'udp', source: source.address, port: source.port, bytes: packet.length });
      return;
    }
    const bytes = Buffer.from(answer.text, 'latin1');
    if (bytes.length > (payment === 'busy' ? 1 : MAX_UDP_AMPLIFICATION) * packet.length) {
      log('sip.reply_too_large', { source: source.address, request: packet.length, reply: bytes.length });
      return;
    }
    // No callback: dgram then tries a synchronous send first; a failure is the socket's 'error' event.
    udp.send(bytes, remote.port, remote.address);
  };
  const createUdp = () => {
    const socket = dgram.createSocket({ type: net.isIPv6(options.bind) ? 'udp6' : 'udp4', lookup: ipLiteralLookup });
    socket.on('error', (err) => log('sip.udp_error', { error: err.message }));
    socket.on('message', onUdpMessage);
    return socket;
  };
  let udp = createUdp();

  const onStream = (socket: net.Socket, transport: SipTransport) => {
    const source: SipSource = { transport, address: plainAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    let messageTimer: NodeJS.Timeout | undefined;
    socket.on('close', () => clearTimeout(messageTimer));
    socket.on('error', () => socket.destroy());
    const framer = new SipStreamFramer(maxMessageBytes);
    socket.on('data', (chunk: Buffer) => {
      onChunk(chunk);
      // A message trickled in a byte at a time keeps resetting the idle timer (slowloris): give every
      // message a deadline from its first byte instead.
      if (framer.bufferedBytes === 0) {
        clearTimeout(messageTimer);
        messageTimer = undefined;
      } else if (!messageTimer && !socket.destroyed) {
        messageTimer = setTimeout(() => {
          log('sip.message_too_slow', { transport, source: source.address, buffered: framer.bufferedBytes });
          socket.destroy();
        }, messageDeadlineMs);
        messageTimer.unref();
      }
    });
    const onChunk = (chunk: Buffer) => {
      for (const item of framer.push(chunk)) {
        if (item.kind === 'invalid') {
          log('sip.stream_invalid', { transport, source: source.address, reason: item.reason });
          socket.destroy();
          return;
        }
        if (item.kind === 'message') slots.requestArrived(socket);
        if (item.kind === 'pong') continue;
        const payment = item.kind === 'ping' ? (allow(source.address) ? 'answer' : 'drop') : payFor(item.bytes, source.address);
        if (payment === 'drop') continue;
        if (item.kind === 'message' && payment === 'answer' && options.rtp && item.bytes.includes(RTP_MARK)) {
          const bytes = item.bytes;
          void options.rtp.answer(bytes, source).then((handled) => {
            const text = handled === undefined ? replyToSipRequest(bytes, source)?.text : handled?.text;
            if (text !== undefined && !socket.destroyed) socket.write(Buffer.from(text, 'latin1'));
          });
          continue;
        }
        // RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a single CRLF pong.
        const text = item.kind === 'ping' ? '\r\n' : reply(item.bytes, source, payment)?.text;
        if (text === undefined) {
          log('sip.ignored', { transport, source: source.address, port: source.port, bytes: item.kind === 'message' ? item.bytes.length : 0 });
          continue;
        }
        socket.write(Buffer.from(text, 'latin1'));
        if (socket.writableLength > MAX_PENDING_WRITE_BYTES) socket.destroy();
      }
    };
  };

  const tcp = net.createServer((socket) => {
    admit(socket);
    if (!socket.destroyed) onStream(socket, 'tcp');
  });
  const secure = tls.createServer({ key: options.tls.key, cert: options.tls.cert, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, (socket) =>
    onStream(socket, 'tls'),
  );
  secure.on('connection', admit);
  secure.on('tlsClientError', (err, socket) => {
    log('sip.tls_handshake_failed', { source: socket.remoteAddress, error: err.message });
    socket.destroy();
  });
  const close = async () => {
    slots.closeAll();
    await Promise.all([
      new Promise<void>((resolve) => { try { udp.close(() => resolve()); } catch { resolve(); } }),
      new Promise<void>((resolve) => (tcp.listening ? tcp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (secure.listening ? secure.close(() => resolve()) : resolve())),
    ]);
  };

  const bindUdp = (port: number) =>
    new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, options.bind, () => { udp.off('error', reject); resolve(); });
    });
  try {
    await bindUdp(options.udpPort);
    if (options.udpPort === 0 && options.tcpPort === 0) {
      // SIP serves UDP and TCP on one port number (RFC 3261 §18) and agents are told one port:
      // with ephemeral ports, TCP takes the port UDP was given. That number may already be taken
      // over TCP by someone else (UDP and TCP ports are allocated apart): then try another.
      for (let attempt = 1; ; attempt++) {
        try {
          await listen(tcp, options.bind, udp.address().port);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
          await new Promise<void>((resolve) => udp.close(() => resolve()));
          udp = createUdp();
          await bindUdp(0);
        }
      }
    } else {
      await listen(tcp, options.bind, options.tcpPort);
    }
    await listen(secure, options.bind, options.tlsPort);
  } catch (err) {
    await close();
    throw new Error(`SIP reflector cannot listen on ${options.bind}: ${(err as Error).message}`);
  }
  const ports = { udp: udp.address().port, tcp: (tcp.address() as net.AddressInfo).port, tls: (secure.address() as net.AddressInfo).port };
  log('sip.listening', { bind: options.bind, ...ports });
  return { close, ports };
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => { server.off('error', reject); resolve(); });
  });
}

/** plainAddress turns an IPv4-mapped IPv6 address (dual-stack socket) back into IPv4. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * signatureHeader finds X-Algwatch-Signature in a request's header section without parsing the
 * whole message (most requests carry none; those are answered from their address's budget).
 */
function signatureHeader(request: Buffer): string | undefined {
  // The agent writes the header name in this case; anything else is read as unsigned.
  if (!request.includes(SIP_SIGNATURE_HEADER, 0, 'latin1')) return undefined;
  const headerEnd = request.indexOf('\r\n\r\n');
  const head = request.toString('latin1', 0, headerEnd === -1 ? request.length : headerEnd);
  const match = SIGNATURE_LINE.exec(head);
  return match ? match[1] : undefined;
}

const SIGNATURE_LINE = new RegExp(`\\r\\n${SIP_SIGNATURE_HEADER}[ \\t]*:[ \\t]*([^\\r\\n]*)`);

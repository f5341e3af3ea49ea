import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSipMessage, parseSipMessage, sipHeaderValue, sipHeaderValues, splitSdpLines, type SipMessage } from '@algwatch/protocol/sip';
import { decodeSipEcho, SIP_ECHO_HEADER } from '@algwatch/protocol/sip-echo';
import { SIP_SIGNATURE_HEADER, probeKeyOfToken, sipSignatureValue } from '@algwatch/protocol/probe-signature';
import { hashAgentToken } from '../relational/agent-token.js';
import { SourceRateLimiter } from './rate-limit.js';
import { SignedProbes } from './signed-probes.js';
import { MAX_UDP_AMPLIFICATION, startSipReflector, type SipReflector } from './sip-server.js';
import { loadOrCreateTlsCertificate } from './tls-certificate.js';

function request(method: string, callId: string, options: { marker?: boolean; local?: string; body?: string; signature?: string } = {}): string {
  const local = options.local ?? '10.1.2.3:5062';
  const headers: Array<[string, string]> = [
    ['Via', `SIP/2.0/UDP ${local};branch=z9hG4bK${callId};rport`],
    ['Max-Forwards', '70'],
    ['From', `<sip:phone@${local}>;tag=abc`],
    ['To', '<sip:echo@127.0.0.1>'],
    ['Call-ID', callId],
    ['CSeq', `1 ${method}`],
    ['Contact', `<sip:phone@${local}>`],
    ['User-Agent', 'algwatch-test phone with a realistic amount of header text'],
  ];
  if (options.marker) headers.push(['X-Algwatch-Probe', '1']);
  if (options.signature) headers.push([SIP_SIGNATURE_HEADER, options.signature]);
  return buildSipMessage({ startLine: `${method} sip:echo@127.0.0.1 SIP/2.0`, headers, body: options.body ?? '' });
}

/** UdpPhone keeps one socket and hands out replies in arrival order (loopback keeps UDP order). */
class UdpPhone {
  readonly socket = dgram.createSocket('udp4');
  private readonly replies: Buffer[] = [];
  private wake: (() => void) | null = null;
  constructor(private readonly port: number) {
    this.socket.on('message', (reply) => { this.replies.push(reply); this.wake?.(); });
  }
  send(text: string): void {
    this.socket.send(Buffer.from(text, 'latin1'), this.port, '127.0.0.1');
  }
  async next(): Promise<Buffer> {
    while (this.replies.length === 0) await new Promise<void>((resolve) => { this.wake = resolve; });
    return this.replies.shift()!;
  }
  close(): void {
    this.socket.close();
  }
}

function parsed(bytes: Buffer): SipMessage {
  const message = parseSipMessage(bytes);
  if (!message) throw new Error(`unparsable reply: ${bytes.toString('latin1')}`);
  return message;
}

function streamReplies(socket: net.Socket): () => Promise<string> {
  let buffered = '';
  let wake: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => { buffered += chunk.toString('latin1'); wake?.(); });
  socket.on('close', () => wake?.());
  return async () => {
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (buffered.startsWith('\r\n') && !buffered.startsWith('\r\n\r\n')) { buffered = buffered.slice(2); return '\r\n'; }
      if (end >= 0) {
        const length = Number(/Content-Length: (\d+)/.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length >= end + 4 + length) {
          const message = buffered.slice(0, end + 4 + length);
          buffered = buffered.slice(end + 4 + length);
          return message;
        }
      }
      if (socket.destroyed) return '';
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  };
}

describe('SIP reflector', () => {
  let dataDir: string;
  let reflector: SipReflector;
  let key: string;
  let cert: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'algwatch-sip-'));
    ({ key, cert } = await loadOrCreateTlsCertificate(dataDir));
    reflector = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert }, maxMessageBytes: 4096 });
  });
  afterAll(async () => {
    await reflector?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers a probe over UDP with canaries holding the observed source and an echo of the exact request', async () => {
    const phone = new UdpPhone(reflector.ports.udp);
    const sent = request('OPTIONS', 'udp-probe', { marker: true });
    phone.send(sent);
    const reply = parsed(await phone.next());
    const { port } = phone.socket.address();
    phone.close();
    expect(reply.startLine).toBe('SIP/2.0 200 OK');
    expect(sipHeaderValues(reply, 'Via')).toEqual([`SIP/2.0/UDP 10.1.2.3:5062;branch=z9hG4bKudp-probe;rport=${port};received=127.0.0.1`]);
    expect(sipHeaderValue(reply, 'Contact')).toBe(`<sip:algwatch@127.0.0.1:${port}>`);
    expect(sipHeaderValue(reply, 'To')).toMatch(/^<sip:echo@127\.0\.0\.1>;tag=[0-9a-f]+$/);
    expect(splitSdpLines(reply.body)).toContain('c=IN IP4 127.0.0.1');
    expect(splitSdpLines(reply.body)).toContain(`m=audio ${port} RTP/AVP 0`);
    const echo = decodeSipEcho(sipHeaderValue(reply, SIP_ECHO_HEADER) ?? '');
    expect(echo?.request).toBe(sent);
    expect(echo?.source).toEqual({ address: '127.0.0.1', port });
    expect(echo?.canaries.headers).toEqual(reply.headers.filter((h) => h.canonical !== SIP_ECHO_HEADER).map((h) => h.line));
    expect(echo?.canaries.sdp).toEqual(splitSdpLines(reply.body));
  });

  it('answers an ordinary OPTIONS keep-alive with a plain 200 OK and ignores other requests without the marker', async () => {
    const phone = new UdpPhone(reflector.ports.udp);
    phone.send(request('INVITE', 'scanner'));
    phone.send(request('ACK', 'ack', { marker: true }));
    phone.send(request('OPTIONS', 'keepalive'));
    const reply = parsed(await phone.next());
    phone.close();
    expect(sipHeaderValue(reply, 'Call-ID')).toBe('keepalive');
    expect(sipHeaderValue(reply, 'Via')).toMatch(/;rport=\d+;received=127\.0\.0\.1$/);
    expect(sipHeaderValue(reply, SIP_ECHO_HEADER)).toBeUndefined();
    expect(reply.body).toBe('');
  });

  it('sends nothing back for garbage and keeps answering afterwards', async () => {
    const phone = new UdpPhone(reflector.ports.udp);
    for (const garbage of ['', '\x00\x01\x02', 'GET / HTTP/1.0\r\n\r\n', 'OPTIONS sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n', 'SIP/2.0 200 OK\r\n\r\n']) phone.send(garbage);
    phone.send(request('OPTIONS', 'after-garbage', { marker: true }));
    const reply = parsed(await phone.next());
    phone.close();
    expect(sipHeaderValue(reply, 'Call-ID')).toBe('after-garbage');
  });

  it('never answers over UDP with more than 3 times the request size', async () => {
    const phone = new UdpPhone(reflector.ports.udp);
    const tiny = buildSipMessage({ startLine: 'OPTIONS sip:a SIP/2.0', headers: [['v', 'SIP/2.0/UDP a;branch=z9hG4bK1'], ['f', 'a'], ['t', 'b'], ['i', 'tiny'], ['CSeq', '1 OPTIONS'], ['X-Algwatch-Probe', '1']] });
    phone.send(tiny);
    const normal = request('INVITE', 'sized', { marker: true, body: 'v=0\r\nc=IN IP4 10.1.2.3\r\n' });
    phone.send(normal);
    const reply = await phone.next();
    phone.close();
    expect(sipHeaderValue(parsed(reply), 'Call-ID')).toBe('sized');
    expect(reply.length).toBeLessThanOrEqual(MAX_UDP_AMPLIFICATION * normal.length);
  });

  it('gives a source over its rate budget nothing', async () => {
    const limited = await startSipReflector({
      bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert },
      limiter: new SourceRateLimiter({ ratePerSecond: 0.001, burst: 2, maxSources: 10 }),
    });
    const phone = new UdpPhone(limited.ports.udp);
    for (const id of ['one', 'two', 'three']) phone.send(request('OPTIONS', id));
    const answered = [await phone.next(), await phone.next()].map((reply) => sipHeaderValue(parsed(reply), 'Call-ID'));
    // Another source still has its budget; its answer comes after any answer to 'three' would have.
    const other = new UdpPhone(limited.ports.udp);
    other.socket.bind(0, '127.0.0.2');
    other.send(request('OPTIONS', 'other-source'));
    const otherReply = sipHeaderValue(parsed(await other.next()), 'Call-ID');
    const late = await Promise.race([phone.next().then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('silent'), 100))]);
    phone.close();
    other.close();
    await limited.close();
    expect(answered).toEqual(['one', 'two']);
    expect(otherReply).toBe('other-source');
    expect(late).toBe('silent');
  });

  it('answers a signed request from its site budget while the address budget is spent, a replay not at all, and 503 "busy" once the site budget is spent', async () => {
    const token = 'sip-signing-token-of-site-north-0123456789abcdef';
    const probeKey = probeKeyOfToken(token);
    const signedProbes = new SignedProbes({ ratePerSecond: 0.001, burst: 2 });
    signedProbes.setTokens([{ siteId: 'north', tokenHash: hashAgentToken(token) }]);
    const limited = await startSipReflector({
      bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert },
      limiter: new SourceRateLimiter({ ratePerSecond: 0.001, burst: 1, maxSources: 10 }),
      signedProbes,
    });
    const phone = new UdpPhone(limited.ports.udp);
    phone.send(request('OPTIONS', 'spends-the-address'));
    await phone.next();
    phone.send(request('OPTIONS', 'unsigned'));
    const signature = sipSignatureValue(probeKey);
    phone.send(request('OPTIONS', 'signed-1', { marker: true, signature }));
    phone.send(request('OPTIONS', 'replayed', { marker: true, signature }));
    phone.send(request('OPTIONS', 'signed-2', { marker: true, signature: sipSignatureValue(probeKey) }));
    const busyRequest = request('OPTIONS', 'signed-3', { marker: true, signature: sipSignatureValue(probeKey) });
    phone.send(busyRequest);
    const raw = [await phone.next(), await phone.next(), await phone.next()];
    const replies = raw.map(parsed);
    const late = await Promise.race([phone.next().then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('silent'), 200))]);
    phone.close();
    await limited.close();
    expect(replies.map((reply) => [sipHeaderValue(reply, 'Call-ID'), reply.response?.statusCode])).toEqual([
      ['signed-1', 200],
      ['signed-2', 200],
      ['signed-3', 503],
    ]);
    expect(sipHeaderValue(replies[2]!, 'Retry-After')).toBe('5');
    expect(raw[2]!.length).toBeLessThanOrEqual(Buffer.byteLength(busyRequest));
    expect(late).toBe('silent');
  });

  it('answers CRLFCRLF pings with CRLF pongs and requests split across TCP segments', async () => {
    const socket = net.connect(reflector.ports.tcp, '127.0.0.1');
    const next = streamReplies(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('\r\n\r\n');
    expect(await next()).toBe('\r\n');
    const sent = request('REGISTER', 'tcp-probe', { marker: true });
    socket.write(sent.slice(0, 30));
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write(sent.slice(30));
    const reply = parsed(Buffer.from(await next(), 'latin1'));
    const echo = decodeSipEcho(sipHeaderValue(reply, SIP_ECHO_HEADER) ?? '');
    expect(echo?.transport).toBe('tcp');
    expect(echo?.request).toBe(sent);
    expect(sipHeaderValue(reply, 'Contact')).toBe(`<sip:algwatch@127.0.0.1:${socket.localPort};transport=tcp>`);
    socket.destroy();
  });

  it('closes a TCP connection that sends a message over the size limit', async () => {
    const socket = net.connect(reflector.ports.tcp, '127.0.0.1');
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => {});
    socket.write(request('OPTIONS', 'huge', { body: 'x'.repeat(5000) }));
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('answers a probe over TLS, echoing transport tls', async () => {
    const socket = tls.connect({ port: reflector.ports.tls, host: '127.0.0.1', rejectUnauthorized: false });
    const next = streamReplies(socket);
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const sent = request('OPTIONS', 'tls-probe', { marker: true });
    socket.write(sent);
    const reply = parsed(Buffer.from(await next(), 'latin1'));
    expect(decodeSipEcho(sipHeaderValue(reply, SIP_ECHO_HEADER) ?? '')).toMatchObject({ transport: 'tls', request: sent });
    socket.write('\r\n\r\n');
    expect(await next()).toBe('\r\n');
    socket.destroy();
  });

  const connectFrom = (port: number, localAddress = '127.0.0.1') =>
    new Promise<net.Socket>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
      socket.on('error', () => {});
    });
  const closedSoon = (socket: net.Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

  it('answers a real OPTIONS while idle connections from 40 addresses hold every slot, evicting one that never sent SIP', async () => {
    const events: string[] = [];
    const capped = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert }, maxConnections: 80, log: (event) => events.push(event) });
    const idle: net.Socket[] = [];
    for (let source = 0; source < 40; source++) {
      for (let i = 0; i < 3; i++) idle.push(await connectFrom(capped.ports.tcp, `127.0.1.${source + 1}`));
    }
    const probe = await connectFrom(capped.ports.tcp, '127.0.0.1');
    const next = streamReplies(probe);
    probe.write(request('OPTIONS', 'under-attack-1'));
    expect(parsed(Buffer.from(await next(), 'latin1')).startLine).toBe('SIP/2.0 200 OK');
    expect(events.filter((event) => event === 'sip.slot_evicted').length).toBeGreaterThanOrEqual(41);
    expect(idle.filter((socket) => !socket.destroyed).length).toBeLessThanOrEqual(79);
    for (const socket of [...idle, probe]) socket.destroy();
    await capped.close();
  });

  it('closes a connection that sends no SIP request in time, and one that only sends CRLF pings after its last request', async () => {
    const events: string[] = [];
    const strict = await startSipReflector({
      bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert }, firstRequestMs: 300, idleTimeoutMs: 600, log: (event) => events.push(event),
    });
    const silent = await connectFrom(strict.ports.tcp);
    await closedSoon(silent);
    expect(events).toContain('sip.no_request');

    const pinger = await connectFrom(strict.ports.tcp);
    const next = streamReplies(pinger);
    pinger.write(request('OPTIONS', 'then-pings-1'));
    expect(parsed(Buffer.from(await next(), 'latin1')).startLine).toBe('SIP/2.0 200 OK');
    let pongs = 0;
    const pinging = setInterval(() => pinger.write('\r\n\r\n'), 100);
    const counting = (async () => { while ((await next()) === '\r\n') pongs++; })();
    await closedSoon(pinger);
    clearInterval(pinging);
    await counting;
    expect(pongs).toBeGreaterThan(2); // pings were answered, and still did not hold the slot
    expect(events).toContain('sip.idle_closed');
    await strict.close();
  });

  it('counts a TLS connection that never finishes its handshake against its slot and source', async () => {
    const events: string[] = [];
    const strict = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert }, firstRequestMs: 300, log: (event) => events.push(event) });
    const raw = await connectFrom(strict.ports.tls); // plain TCP to the TLS port: no ClientHello ever
    await closedSoon(raw);
    expect(events).toContain('sip.no_request');
    await strict.close();
  });

  it('lets one source address hold only a few connections, over TCP and TLS together', async () => {
    const capped = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert }, maxConnectionsPerSource: 2 });
    const connect = () => new Promise<net.Socket>((resolve) => { const socket = net.connect(capped.ports.tcp, '127.0.0.1', () => resolve(socket)); socket.on('error', () => {}); });
    const [first, second] = [await connect(), await connect()];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const third = await connect();
    await new Promise((resolve) => third.on('close', resolve)); // closed at once by the server
    const next = streamReplies(second);
    second.write('\r\n\r\n');
    expect(await next()).toBe('\r\n');
    first.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await connect(); // a slot freed by a close is usable again
    const answered = streamReplies(again);
    again.write('\r\n\r\n');
    expect(await answered()).toBe('\r\n');
    for (const socket of [second, again]) socket.destroy();
    await capped.close();
  });

  it('closes a connection whose message trickles in slower than the deadline (slowloris)', async () => {
    const events: string[] = [];
    const strict = await startSipReflector({
      bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert }, messageDeadlineMs: 300,
      log: (event) => events.push(event),
    });
    const socket = net.connect(strict.ports.tcp, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    const text = request('OPTIONS', 'slow-1');
    let sent = 0;
    const trickle = setInterval(() => { if (sent < text.length - 1 && !socket.destroyed) socket.write(text[sent++]!); }, 20);
    await closed;
    clearInterval(trickle);
    expect(sent).toBeLessThan(text.length - 1); // cut off before the message could complete
    expect(events).toContain('sip.message_too_slow');
    await strict.close();
  });

  it('reports the real ports, UDP and TCP on one number, and rejects with one line when a port is taken', async () => {
    expect(reflector.ports.udp).toBeGreaterThan(0);
    expect(reflector.ports.tcp).toBe(reflector.ports.udp); // agents are told one SIP port
    await expect(
      startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: reflector.ports.tcp, tlsPort: 0, tls: { key, cert } }),
    ).rejects.toThrow(/^SIP reflector cannot listen on 127\.0\.0\.1: .*EADDRINUSE/);
  });
});

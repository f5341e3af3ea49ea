import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { metricPointSchema } from '@algwatch/protocol/measurements';
import { parseSipMessage, sipHeaderValue, SipStreamFramer } from '@algwatch/protocol/sip';
import { useSipReflector } from '../../../test/helpers/sip-reflector.js';
import { runProbe } from './runner.js';
import { sipAlgProbe, type SipAlgOptions } from './sip-alg.js';

/** The relay's "public" address, as a NAT would have one: loopback has all of 127/8. */
const PUBLIC = '127.0.0.9';

/**
 * rewriteLikeAnAlg does what nf_nat_sip does to a message: replace address:port pairs (and the SDP
 * address) as text, then fix Content-Length.
 */
function rewriteLikeAnAlg(text: string, pairs: Array<[string, string]>): string {
  let out = text;
  for (const [from, to] of pairs) out = out.split(from).join(to);
  const end = out.indexOf('\r\n\r\n');
  if (end < 0) return out;
  const bodyLength = out.length - end - 4;
  return out.slice(0, end).replace(/\r\nContent-Length: \d+/i, `\r\nContent-Length: ${bodyLength}`) + out.slice(end);
}

function outboundPairs(client: string, clientPort: number, publicPort: number): Array<[string, string]> {
  return [[`${client}:${clientPort}`, `${PUBLIC}:${publicPort}`], [`IN IP4 ${client}`, `IN IP4 ${PUBLIC}`]];
}
function inboundPairs(client: string, clientPort: number, publicPort: number): Array<[string, string]> {
  return [
    [`${PUBLIC}:${publicPort}`, `${client}:${clientPort}`], [`received=${PUBLIC}`, `received=${client}`],
    [`rport=${publicPort}`, `rport=${clientPort}`], [`IN IP4 ${PUBLIC}`, `IN IP4 ${client}`],
  ];
}

/** A UDP "NAT with a SIP ALG": one upstream socket on 127.0.0.9 per client. */
async function startUdpAlgRelay(upstreamPort: number): Promise<{ port: number; close(): void }> {
  const front = dgram.createSocket('udp4');
  const upstreams = new Map<string, { socket: dgram.Socket; ready: Promise<void> }>();
  front.on('message', (packet, client) => {
    const key = `${client.address}:${client.port}`;
    let upstream = upstreams.get(key);
    if (!upstream) {
      const socket = dgram.createSocket('udp4');
      upstream = { socket, ready: new Promise<void>((resolve) => socket.bind(0, PUBLIC, resolve)) };
      upstreams.set(key, upstream);
      socket.on('message', (reply) => {
        const text = rewriteLikeAnAlg(reply.toString('latin1'), inboundPairs(client.address, client.port, socket.address().port));
        front.send(Buffer.from(text, 'latin1'), client.port, client.address);
      });
    }
    const { socket, ready } = upstream;
    void ready.then(() => {
      const text = rewriteLikeAnAlg(packet.toString('latin1'), outboundPairs(client.address, client.port, socket.address().port));
      socket.send(Buffer.from(text, 'latin1'), upstreamPort, '127.0.0.1');
    });
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  return { port: front.address().port, close: () => { front.close(); for (const { socket } of upstreams.values()) socket.close(); } };
}

/** A TCP "NAT with a SIP ALG": rewrites whole framed messages in both directions. */
async function startTcpAlgRelay(upstreamPort: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.pause();
    const upstream = net.connect({ port: upstreamPort, host: '127.0.0.1', localAddress: PUBLIC });
    for (const socket of [client, upstream]) { sockets.add(socket); socket.on('error', () => {}); }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.on('connect', () => {
      const pipe = (from: net.Socket, to: net.Socket, pairs: Array<[string, string]>) => {
        const framer = new SipStreamFramer();
        from.on('data', (chunk: Buffer) => {
          for (const item of framer.push(chunk)) {
            if (item.kind === 'message') to.write(rewriteLikeAnAlg(item.bytes.toString('latin1'), pairs), 'latin1');
            else if (item.kind === 'ping') to.write('\r\n\r\n');
            else if (item.kind === 'pong') to.write('\r\n');
          }
        });
      };
      pipe(client, upstream, outboundPairs(client.remoteAddress!, client.remotePort!, upstream.localPort!));
      pipe(upstream, client, inboundPairs(client.remoteAddress!, client.remotePort!, upstream.localPort!));
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => { for (const socket of sockets) socket.destroy(); server.close(); } };
}

async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function check(port: number, options: Partial<SipAlgOptions>) {
  return runProbe(sipAlgProbe, { host: '127.0.0.1', port, name: 'reflector' }, { requestTimeoutMs: 1_000, ...options });
}

describe('sip-alg probe', () => {
  const reflector = useSipReflector();

  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    it(`reports clean over ${transport.toUpperCase()} when nothing rewrites SIP`, async () => {
      const run = await check(reflector().ports[transport], { transport });
      expect(run.error).toBeUndefined();
      expect(run.detail).toMatchObject({ status: 'clean', rewrites: [] });
      expect(run.detail?.rttMs).toBeGreaterThan(0);
      expect(run.success).toBe(true);
      expect(run.points).toHaveLength(1);
      expect(metricPointSchema.parse(run.points[0])).toEqual({
        measurement: 'sip_alg',
        tags: { target: 'reflector', transport, result: 'clean' },
        fields: { alg_detected: false, rewrites_outbound: 0, rewrites_inbound: 0, rewritten_fields: '', rtt_ms: run.detail?.rttMs },
      });
    });
  }

  for (const transport of ['udp', 'tcp'] as const) {
    it(`detects an ALG rewriting Via, Contact and SDP c= both ways over ${transport.toUpperCase()}`, async () => {
      const relay = transport === 'udp' ? await startUdpAlgRelay(reflector().ports.udp) : await startTcpAlgRelay(reflector().ports.tcp);
      try {
        const run = await check(relay.port, { transport });
        const report = run.detail!;
        expect(report.status).toBe('detected');
        expect(run.success).toBe(true);
        for (const direction of ['outbound', 'inbound'] as const) {
          const fields = report.rewrites.filter((rewrite) => rewrite.direction === direction).map((rewrite) => rewrite.field);
          expect(fields).toEqual(expect.arrayContaining(['Via', 'Contact', 'SDP c=']));
        }
        expect(report.rewrites).toContainEqual({ direction: 'outbound', field: 'SDP c=', sent: '127.0.0.1', received: PUBLIC });
        expect(report.rewrites).toContainEqual({ direction: 'inbound', field: 'Via', sent: PUBLIC, received: '127.0.0.1' });
        const viaOut = report.rewrites.find((rewrite) => rewrite.direction === 'outbound' && rewrite.field === 'Via');
        expect(viaOut?.sent).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(viaOut?.received).toMatch(/^127\.0\.0\.9:\d+$/);
        // One socket or connection for all three requests: identical rewrites are reported once.
        expect(report.rewrites.filter((rewrite) => rewrite === viaOut || JSON.stringify(rewrite) === JSON.stringify(viaOut))).toHaveLength(1);
        const point = metricPointSchema.parse(run.points[0]);
        expect(point.tags.result).toBe('detected');
        expect(point.fields.alg_detected).toBe(true);
        expect(String(point.fields.rewritten_fields).split(',')).toEqual(expect.arrayContaining(['Via', 'Contact', 'From', 'SDP c=', 'SDP o=']));
      } finally {
        relay.close();
      }
    });
  }

  it('reports blocked with a reason when nothing listens on the UDP or TCP port', async () => {
    const port = await unusedPort();
    for (const transport of ['udp', 'tcp', 'tls'] as const) {
      const run = await check(port, { transport });
      expect(run.detail?.status).toBe('blocked');
      expect(run.detail?.reason).toMatch(transport === 'udp' ? /ICMP port unreachable from 127\.0\.0\.1:\d+/ : /connect to 127\.0\.0\.1:\d+ failed: ECONNREFUSED/);
      expect(run.success).toBe(false);
    }
  });

  it('reports blocked after retransmitting when UDP requests vanish', async () => {
    const blackhole = dgram.createSocket('udp4');
    let received = 0;
    blackhole.on('message', () => received++);
    await new Promise<void>((resolve) => blackhole.bind(0, '127.0.0.1', resolve));
    const run = await check(blackhole.address().port, { transport: 'udp', requestTimeoutMs: 700 });
    blackhole.close();
    expect(run.detail).toMatchObject({ status: 'blocked', rewrites: [], rttMs: null });
    expect(run.detail?.reason).toMatch(/^no answer over UDP from 127\.0\.0\.1:\d+ to OPTIONS after 2 tries in 700 ms$/);
    expect(received).toBe(2);
  });

  it('reports error when a SIP server that is not an algwatch reflector answers', async () => {
    const pbx = dgram.createSocket('udp4');
    const methods: string[] = [];
    pbx.on('message', (packet, from) => {
      const request = parseSipMessage(packet)!;
      methods.push(request.request!.method);
      const reply = ['SIP/2.0 200 OK', `Via: ${sipHeaderValue(request, 'Via')}`, `CSeq: ${sipHeaderValue(request, 'CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n');
      pbx.send(reply, from.port, from.address);
    });
    await new Promise<void>((resolve) => pbx.bind(0, '127.0.0.1', resolve));
    const run = await check(pbx.address().port, { transport: 'udp' });
    pbx.close();
    expect(run.detail?.status).toBe('error');
    expect(run.detail?.reason).toMatch(/^not an algwatch reflector: the 200 OK from 127\.0\.0\.1:\d+ has no valid X-Algwatch-Echo header$/);
    expect(methods).toEqual(['OPTIONS']); // REGISTER and INVITE go only to a proven algwatch reflector
  });
});

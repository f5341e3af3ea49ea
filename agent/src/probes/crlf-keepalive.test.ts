import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { metricPointSchema } from '@algwatch/protocol/measurements';
import { useSipReflector } from '../../../test/helpers/sip-reflector.js';
import { crlfKeepaliveProbe, type CrlfKeepaliveOptions } from './crlf-keepalive.js';
import { runProbe } from './runner.js';

function ping(port: number, options: Partial<CrlfKeepaliveOptions>) {
  return runProbe(crlfKeepaliveProbe, { host: '127.0.0.1', port, name: 'pbx' }, { pongTimeoutMs: 500, ...options });
}

async function startTcpPeer(onData: (socket: net.Socket, chunk: Buffer) => void): Promise<net.Server> {
  const server = net.createServer((socket) => socket.on('data', (chunk) => onData(socket, chunk)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('crlf-keepalive probe', () => {
  const reflector = useSipReflector();

  for (const transport of ['tcp', 'tls'] as const) {
    it(`gets the CRLF pong for a CRLFCRLF ping over ${transport.toUpperCase()}`, async () => {
      const run = await ping(reflector().ports[transport], { transport });
      expect(run.detail).toMatchObject({ result: 'ok', pong: true });
      expect(run.success).toBe(true);
      const point = metricPointSchema.parse(run.points[0]);
      expect(point).toEqual({ measurement: 'crlf_keepalive', tags: { target: 'pbx', transport, result: 'ok' }, fields: { pong: true, rtt_ms: run.detail?.rttMs } });
    });
  }

  it('reports timeout when the peer keeps the connection but never pongs', async () => {
    let pinged = '';
    const silent = await startTcpPeer((_socket, chunk) => { pinged += chunk.toString('latin1'); });
    const run = await ping((silent.address() as net.AddressInfo).port, { transport: 'tcp', pongTimeoutMs: 300 });
    silent.close();
    expect(pinged).toBe('\r\n\r\n');
    expect(run.detail).toMatchObject({ result: 'timeout', pong: false, rttMs: null, reason: expect.stringMatching(/^no CRLF pong from 127\.0\.0\.1:\d+ within 300 ms$/) });
    expect(metricPointSchema.parse(run.points[0]).fields).toEqual({ pong: false });
    expect(run.success).toBe(false);
  });

  it('reports timeout at once when the peer closes the connection on the ping', async () => {
    const closer = await startTcpPeer((socket) => socket.end());
    const run = await ping((closer.address() as net.AddressInfo).port, { transport: 'tcp', pongTimeoutMs: 10_000 });
    closer.close();
    expect(run.detail).toMatchObject({ result: 'timeout', pong: false, reason: expect.stringMatching(/closed the connection after the CRLFCRLF ping$/) });
  });

  it('reports connection_failed when nothing listens', async () => {
    const server = await startTcpPeer(() => {});
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const run = await ping(port, { transport: 'tls' });
    expect(run.detail).toMatchObject({ result: 'connection_failed', reason: `TLS connect to 127.0.0.1:${port} failed: ECONNREFUSED` });
  });
});

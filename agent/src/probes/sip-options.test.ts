import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricPointSchema } from '@algwatch/protocol/measurements';
import { parseSipMessage, sipHeaderValue } from '@algwatch/protocol/sip';
import { useSipReflector } from '../../../test/helpers/sip-reflector.js';
import { runProbe } from './runner.js';
import { sipOptionsProbe, type SipOptionsOptions } from './sip-options.js';

function ping(port: number, options: Partial<SipOptionsOptions>) {
  return runProbe(sipOptionsProbe, { host: '127.0.0.1', port, name: 'pbx' }, { intervalMs: 20, requestTimeoutMs: 600, ...options });
}

/** A UDP peer that answers the OPTIONS `answers` picks (by CSeq number) with a fixed status. */
async function startUdpPeer(status: string, answers: (cseq: number) => boolean = () => true): Promise<{ socket: dgram.Socket; received: () => number }> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', (packet, from) => {
    received++;
    const request = parseSipMessage(packet)!;
    if (!answers(Number.parseInt(sipHeaderValue(request, 'CSeq') ?? '', 10))) return;
    const reply = [`SIP/2.0 ${status}`, `Via: ${sipHeaderValue(request, 'Via')}`, `CSeq: ${sipHeaderValue(request, 'CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n');
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, received: () => received };
}

describe('sip-options probe', () => {
  const reflector = useSipReflector();

  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    it(`reports ok, the RTT and the public address:port from Via received/rport over ${transport.toUpperCase()}`, async () => {
      const run = await ping(reflector().ports[transport], { transport });
      expect(run.detail).toMatchObject({ result: 'ok', statusCode: 200, lossPct: 0, publicAddress: '127.0.0.1' });
      expect(run.detail?.publicPort).toBeGreaterThan(0);
      expect(run.success).toBe(true);
      const point = metricPointSchema.parse(run.points[0]);
      expect(point).toMatchObject({ measurement: 'sip_options', tags: { target: 'pbx', transport, result: 'ok' } });
      expect(point.fields).toMatchObject({ status_code: 200, loss_pct: 0, public_address: '127.0.0.1', public_port: run.detail?.publicPort });
      expect(point.fields.rtt_ms).toBeGreaterThan(0);
    });
  }

  it('judges the answer against the STUN mapping: received= naming its own address while STUN sees another is an ALG on the path', async () => {
    // The reflector writes received= from the packet's source (127.0.0.1, the agent's own address here):
    // what an agent behind nf_nat_sip reads, while its STUN mapping says the NAT's public address.
    const rewritten = await ping(reflector().ports.udp, { transport: 'udp', count: 1, stunPublicAddress: '203.0.113.1' });
    expect(rewritten.detail).toMatchObject({ algOnPath: true, localAddress: '127.0.0.1', stunAddress: '203.0.113.1', algFields: ['Via received=127.0.0.1 (STUN: 203.0.113.1)'] });
    expect(rewritten.points[0]?.fields).toMatchObject({ alg_on_path: true, stun_address: '203.0.113.1', local_address: '127.0.0.1', alg_fields: 'Via received=127.0.0.1 (STUN: 203.0.113.1)' });

    const clean = await ping(reflector().ports.udp, { transport: 'udp', count: 1, stunPublicAddress: '127.0.0.1' });
    expect(clean.detail).toMatchObject({ algOnPath: false, algFields: [] });
    expect(clean.points[0]?.fields.alg_on_path).toBe(false);

    const unjudged = await ping(reflector().ports.udp, { transport: 'udp', count: 1 });
    expect(unjudged.detail?.algOnPath).toBeNull();
    expect(unjudged.points[0]?.fields).not.toHaveProperty('alg_on_path');
  });

  it('refuses a STUN address that is not an address', async () => {
    const run = await ping(reflector().ports.udp, { transport: 'udp', stunPublicAddress: 'evil; rm' });
    expect(run.error).toMatch(/stunPublicAddress/);
  });

  it('reports an error response as a result with its status code', async () => {
    const peer = await startUdpPeer('404 Not Found');
    const run = await ping(peer.socket.address().port, { transport: 'udp', count: 2 });
    peer.socket.close();
    expect(run.error).toBeUndefined();
    expect(run.detail).toMatchObject({ result: 'error_response', statusCode: 404, lossPct: 0, publicAddress: null, publicPort: null });
    expect(run.detail?.reason).toMatch(/answered OPTIONS with "404 Not Found"$/);
    expect(run.points[0]?.tags.result).toBe('error_response');
    expect(run.success).toBe(false);
  });

  it('counts lost OPTIONS in loss_pct', async () => {
    const peer = await startUdpPeer('200 OK', (cseq) => cseq !== 2);
    const run = await ping(peer.socket.address().port, { transport: 'udp', count: 4, requestTimeoutMs: 300 });
    peer.socket.close();
    expect(run.detail).toMatchObject({ result: 'ok', lossPct: 25 });
    expect(run.detail?.reason).toMatch(/^no answer from 127\.0\.0\.1:\d+ within 300 ms$/);
    expect(run.points[0]?.fields.loss_pct).toBe(25);
  });

  it('reports timeout with 100% loss when nobody answers', async () => {
    const peer = await startUdpPeer('200 OK', () => false);
    const run = await ping(peer.socket.address().port, { transport: 'udp', count: 2, requestTimeoutMs: 300 });
    peer.socket.close();
    expect(run.detail).toMatchObject({ result: 'timeout', lossPct: 100, rttMs: null, statusCode: null });
    expect(metricPointSchema.parse(run.points[0]).fields).toEqual({ loss_pct: 100 });
  });

  it('reports connection_failed when nothing listens on the TCP port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const run = await ping(port, { transport: 'tcp' });
    expect(run.detail).toMatchObject({ result: 'connection_failed', reason: `TCP connect to 127.0.0.1:${port} failed: ECONNREFUSED` });
    expect(run.points[0]?.tags.result).toBe('connection_failed');
  });

  it('gets ok from a real SIP peer (SIPp answering OPTIONS)', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'algwatch-sipp-'));
    const scenario = path.join(dataDir, 'options-uas.xml');
    await writeFile(scenario, SIPP_OPTIONS_UAS);
    const port = await freeUdpPort();
    const sipp = spawn('sipp', ['-sf', scenario, '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-nostdin'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => sipp.once('exit', resolve));
    let spawnError: Error | null = null;
    sipp.once('error', (err) => { spawnError = err; });
    try {
      await waitUntilUdpPortTaken(port, () => spawnError);
      const run = await ping(port, { transport: 'udp', count: 2 });
      expect(run.detail).toMatchObject({ result: 'ok', statusCode: 200, lossPct: 0 });
      // SIPp copies Via as it came and adds no received=/rport= value.
      expect(run.detail?.publicPort).toBeNull();
    } finally {
      if (sipp.exitCode === null && !spawnError) sipp.kill();
      if (!spawnError) await exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** A SIPp UAS scenario that answers two OPTIONS of one Call-ID with 200 OK. */
const SIPP_OPTIONS_UAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer two OPTIONS">
${[1, 2].map(() => `  <recv request="OPTIONS"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]sipp[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>`).join('\n')}
</scenario>
`;

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** Resolves once another process (SIPp) has bound the port: our own bind then fails. */
async function waitUntilUdpPortTaken(port: number, failed: () => Error | null): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const error = failed();
    if (error) throw new Error(`cannot run sipp (apt-get install sip-tester): ${error.message}`);
    const socket = dgram.createSocket('udp4');
    const taken = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(true));
      socket.bind(port, '127.0.0.1', () => resolve(false));
    });
    await new Promise<void>((resolve) => { try { socket.close(() => resolve()); } catch { resolve(); } });
    if (taken) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sipp did not bind UDP port ${port}`);
}

/**
 * Reflection: bytes on the wire the reflector sends per byte it receives, for every kind of request
 * a stranger can send it (issue 16). On the wire means with the 28 bytes of IPv4 and UDP headers
 * each datagram carries, which is what a reflection attack multiplies. Each kind is sent 20 times
 * to the real STUN and SIP reflectors on loopback (with an alternate address, as in production) and
 * everything that arrives anywhere within a second is counted. SIP probe echoes carry the whole
 * request back (that is the ALG test), so their cap is the reflector's 3× (MAX_UDP_AMPLIFICATION),
 * not 1×. The baseline is coturn's answer to a
 * plain Binding request, measured in the same run when `turnserver` is installed.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STUN_METHOD_BINDING, encodeStun, newTransactionId, type StunAttributes } from '../protocol/dist/stun.js';
import { buildSipRequest } from '../agent/src/sip/requests.js';
import { PADDED_REQUEST_BYTES } from '../agent/src/stun-client.js';
import { startStunReflector } from '../server/dist/reflector/stun-server.js';
import { startSipReflector } from '../server/dist/reflector/sip-server.js';
import { loadOrCreateTlsCertificate } from '../server/dist/reflector/tls-certificate.js';
import type { BenchFigure } from './figures.js';

const UDP_IP_HEADER_BYTES = 28;
const REPEATS = 20;

async function udpSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

function stunRequest(attributes: StunAttributes, padTo?: number): Buffer {
  const header = { method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId() } as const;
  const bare = encodeStun(header, attributes);
  return padTo ? encodeStun(header, { ...attributes, paddingBytes: (padTo - bare.length - 4) & ~3 }) : bare;
}

/** wireRatio sends `make()` REPEATS times from `from` to `to` and counts what `listeners` receive in the next second. */
async function wireRatio(from: Socket, to: { address: string; port: number }, listeners: Socket[], make: () => Buffer): Promise<{ ratio: number; answers: number; requestBytes: number }> {
  let bytesIn = 0;
  let bytesOut = 0;
  let answers = 0;
  const count = (packet: Buffer) => {
    bytesOut += packet.length + UDP_IP_HEADER_BYTES;
    answers++;
  };
  for (const listener of listeners) listener.on('message', count);
  let requestBytes = 0;
  for (let i = 0; i < REPEATS; i++) {
    const request = make();
    requestBytes = request.length;
    bytesIn += request.length + UDP_IP_HEADER_BYTES;
    from.send(request, to.port, to.address);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  for (const listener of listeners) listener.off('message', count);
  return { ratio: bytesOut / bytesIn, answers: answers / REPEATS, requestBytes };
}

/** coturnPlainAnswerBytes is the size of coturn's answer to a plain Binding request, or null without turnserver. */
async function coturnPlainAnswerBytes(): Promise<number | null> {
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const turn = spawn('turnserver', ['-n', '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--no-tls', '--no-dtls', '--stun-only', '--no-cli', '--log-file=stdout'], { stdio: 'ignore' });
  const failed = new Promise<null>((resolve) => turn.once('error', () => resolve(null)));
  try {
    const socket = await udpSocket();
    const answer = new Promise<number>((resolve) => socket.once('message', (packet) => resolve(packet.length)));
    for (let attempt = 0; attempt < 20; attempt++) {
      socket.send(stunRequest({}), port, '127.0.0.1');
      const got = await Promise.race([answer, failed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200))]);
      if (got !== undefined) {
        socket.close();
        return got;
      }
    }
    socket.close();
    return null;
  } finally {
    turn.kill('SIGKILL');
  }
}

export async function benchReflection(): Promise<BenchFigure[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-bench-reflection-'));
  const stun = await startStunReflector({ bind: '127.0.0.1', altAddress: '127.0.0.2', port: 0, altPort: 0 });
  const tls = await loadOrCreateTlsCertificate(dataDir);
  const sip = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key: tls.key, cert: tls.cert } });
  const [sender, elsewhere] = [await udpSocket(), await udpSocket()];
  const listeners = [sender, elsewhere];
  const primary = stun.sockets[0]!;
  const sipTarget = { address: '127.0.0.1', port: sip.ports.udp };
  const sipEnds = { localAddress: '127.0.0.1', localPort: sender.address().port, remoteHost: '127.0.0.1', remotePort: sip.ports.udp, transport: 'udp' as const };
  const kinds: Array<{ name: string; to: { address: string; port: number }; make: () => Buffer; goal?: number }> = [
    { name: 'STUN plain Binding request', to: primary, make: () => stunRequest({}) },
    { name: 'STUN CHANGE-REQUEST (ip+port), padded as the agent sends it', to: primary, make: () => stunRequest({ changeRequest: { changeIp: true, changePort: true } }, PADDED_REQUEST_BYTES.rfc5780), goal: 1 },
    { name: 'STUN CHANGE-REQUEST (ip+port), unpadded', to: primary, make: () => stunRequest({ changeRequest: { changeIp: true, changePort: true } }), goal: 1 },
    { name: 'STUN RESPONSE-PORT to another port, padded', to: primary, make: () => stunRequest({ responsePort: elsewhere.address().port }, PADDED_REQUEST_BYTES.rfc5780), goal: 1 },
    { name: 'STUN RESPONSE-PORT to another port, unpadded', to: primary, make: () => stunRequest({ responsePort: elsewhere.address().port }), goal: 1 },
    { name: 'STUN ALGWATCH-RESPONSE-DELAY 200 ms (ack + 2 answers), padded', to: primary, make: () => stunRequest({ responseDelayMs: 200 }, PADDED_REQUEST_BYTES.delayed), goal: 1 },
    { name: 'STUN ALGWATCH-RESPONSE-DELAY 200 ms, unpadded', to: primary, make: () => stunRequest({ responseDelayMs: 200 }), goal: 1 },
    { name: 'SIP OPTIONS probe (canaries + echo)', to: sipTarget, make: () => Buffer.from(buildSipRequest('OPTIONS', sipEnds, { probeMarker: true }).text, 'latin1'), goal: 3 },
    { name: 'SIP INVITE probe with SDP (canaries + echo)', to: sipTarget, make: () => Buffer.from(buildSipRequest('INVITE', sipEnds, { probeMarker: true }).text, 'latin1'), goal: 3 },
    { name: 'SIP OPTIONS keep-alive without the probe marker', to: sipTarget, make: () => Buffer.from(buildSipRequest('OPTIONS', sipEnds, { probeMarker: false }).text, 'latin1'), goal: 1 },
  ];
  const figures: BenchFigure[] = [];
  try {
    const coturn = await coturnPlainAnswerBytes();
    for (const kind of kinds) {
      const measured = await wireRatio(sender, kind.to, listeners, kind.make);
      figures.push({
        name: `${kind.name} (${measured.requestBytes} B; ${measured.answers.toFixed(0)} datagram(s) back per request): bytes out / bytes in on the wire`,
        value: measured.ratio,
        unit: '×',
        ...(kind.goal !== undefined ? { goal: `≤ ${kind.goal}×`, met: measured.ratio <= kind.goal } : {}),
      });
    }
    const plain = await new Promise<number>((resolve) => {
      sender.once('message', (packet) => resolve(packet.length));
      sender.send(stunRequest({}), primary.port, primary.address);
    });
    figures.push({
      name: 'STUN answer to a plain Binding request, with OTHER-ADDRESS (alternate address configured)',
      value: plain,
      unit: 'B',
      ...(coturn !== null ? { baseline: coturn, baselineName: 'coturn 4.6 answer, no alternate address', goal: "≤ coturn's", met: plain <= coturn } : {}),
    });
  } finally {
    for (const socket of listeners) socket.close();
    await stun.close();
    await sip.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  return figures;
}

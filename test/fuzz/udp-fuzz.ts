/**
 * runUdpFuzz sends a seeded stream of random, STUN-shaped and SIP-shaped datagrams at the
 * reflector's SIP and STUN ports and judges every reply with the ReplyLedger.
 *
 * Pacing: datagrams go out in small bursts; after each burst the sender yields (so replies are
 * read) and waits while the server's UDP receive queues (/proc/net/udp) hold more than a few dozen
 * datagrams. Without that the kernel would drop most of the flood before the server saw it and the
 * test would prove little. The server's own drop counters are reported, not asserted.
 *
 * Sources: the datagrams come from several loopback addresses (127.0.1.x) because the reflectors
 * pay every SIP datagram and every STUN answer from one token bucket per source address
 * (server.ts: 2000 burst, 200/s). From one address the bucket would be empty after 2000 SIP
 * datagrams and valid fuzz requests would go unanswered, so the oracle would see few replies.
 */
import dgram from 'node:dgram';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ReplyLedger, type ReflectorProtocol } from './reply-oracle.js';
import { packetRandom } from './seeded-random.js';
import { sipMutant } from './sip-mutants.js';
import { stunMutant } from './stun-mutants.js';
import { udpSocketCounters } from './server-process.js';

export type TargetPort = 'sip' | 'stun' | 'stunAlt';
export type DatagramFamily = 'random' | 'stun' | 'sip';

/** FuzzDatagram is one planned datagram: its bytes and where it goes. */
export interface FuzzDatagram {
  bytes: Buffer;
  target: TargetPort;
  family: DatagramFamily;
  strategy: string;
  callId?: string;
}

/** fuzzDatagram rebuilds datagram `index` of the run seeded `seed`: the same bytes every time. */
export function fuzzDatagram(seed: number, index: number, serverHost: string): FuzzDatagram {
  const random = packetRandom(seed, index);
  const family = random.weighted({ random: 20, stun: 40, sip: 40 } as const);
  // One datagram in ten of each protocol goes to the other protocol's port.
  const stunPort = (): TargetPort => (random.chance(0.5) ? 'stun' : 'stunAlt');
  if (family === 'stun') {
    const { bytes, strategy } = stunMutant(random);
    return { bytes, family, strategy, target: random.chance(0.9) ? stunPort() : 'sip' };
  }
  if (family === 'sip') {
    const { bytes, strategy, callId } = sipMutant(random, `fz${seed.toString(36)}x${index}`, serverHost);
    return { bytes, family, strategy, callId, target: random.chance(0.9) ? 'sip' : stunPort() };
  }
  const size = random.weighted({ tiny: 3, small: 4, large: 3 } as const);
  const length = size === 'tiny' ? random.int(0, 20) : size === 'small' ? random.int(21, 200) : random.int(201, 2000);
  let bytes = random.bytes(length);
  const prefix = random.weighted({ none: 8, sip: 1, stun: 1 } as const);
  if (prefix === 'sip') bytes = Buffer.concat([Buffer.from(`${random.pick(['INVITE', 'OPTIONS', 'REGISTER'])} sip:echo@${serverHost} SIP/2.0\r\n`, 'latin1'), bytes]);
  if (prefix === 'stun') {
    // A Binding request header (type, length, cookie) in front: random transaction id and
    // attributes, with a length field that is right whenever the random part is a multiple of 4.
    const claimed = Math.max(0, length - 12) & ~3;
    bytes = Buffer.concat([Buffer.from([0x00, 0x01, claimed >> 8, claimed & 0xff, 0x21, 0x12, 0xa4, 0x42]), bytes]);
  }
  return { bytes, family, strategy: `random-${size}-${prefix}`, target: random.pick(['sip', 'stun', 'stunAlt'] as const) };
}

export interface UdpFuzzOptions {
  seed: number;
  datagrams: number;
  serverHost: string;
  ports: Record<TargetPort, number>;
  /** Loopback addresses to send from (see the module comment). */
  sources: readonly string[];
  /** False once the server process has ended: the fuzzing stops. */
  serverAlive: () => boolean;
  /** Each is called once, when `afterDatagrams` have been sent and the server's queues have drained. */
  checkpoints?: ReadonlyArray<{ afterDatagrams: number; run: () => void }>;
}

export interface UdpFuzzViolation {
  violation: string;
  /** The datagram that caused it, rebuilt from the seed (latin1, cut short). */
  datagram?: string;
}

export interface UdpFuzzResult {
  sent: number;
  sendErrors: number;
  byFamily: Record<DatagramFamily, number>;
  byTarget: Record<TargetPort, number>;
  answerable: { stun: number; sip: number };
  replies: { stun: number; sip: number };
  keyCollisions: number;
  violations: UdpFuzzViolation[];
  /** Datagrams the kernel dropped on the server's sockets (receive buffer full). */
  serverDrops: number;
  /** Replies the kernel dropped on the fuzzer's own sockets: must be 0 for the oracle to be complete. */
  clientDrops: number;
  durationMs: number;
  stoppedEarly: string | null;
}

const BURST = 32;
/** Wait while the server's queues hold more than this (bytes of skb truesize, ~20-40 small datagrams). */
const QUEUE_HIGH_WATER = 48 * 1024;

/** runUdpFuzz sends `datagrams` datagrams and resolves once replies have stopped arriving. */
export async function runUdpFuzz(options: UdpFuzzOptions): Promise<UdpFuzzResult> {
  const started = performance.now();
  const ledger = new ReplyLedger();
  const violations: UdpFuzzViolation[] = [];
  const protocolOf = new Map<number, ReflectorProtocol>([
    [options.ports.sip, 'sip'],
    [options.ports.stun, 'stun'],
    [options.ports.stunAlt, 'stun'],
  ]);
  const explain = (violation: string, index?: number) => {
    if (violations.length >= 20) return;
    const datagram = index === undefined ? undefined : fuzzDatagram(options.seed, index, options.serverHost);
    violations.push({ violation, ...(datagram ? { datagram: `${datagram.strategy}: ${JSON.stringify(datagram.bytes.toString('latin1').slice(0, 300))}` } : {}) });
  };
  let lastReplyAt = performance.now();
  const sockets = await Promise.all(options.sources.map((address) => bindSocket(address)));
  for (const socket of sockets) {
    socket.on('message', (reply, remote) => {
      lastReplyAt = performance.now();
      const protocol = protocolOf.get(remote.port);
      if (remote.address !== options.serverHost || protocol === undefined) return explain(`reply from unexpected ${remote.address}:${remote.port}`);
      const verdict = ledger.judge(protocol, reply);
      if (!verdict.ok) explain(verdict.violation, verdict.index);
    });
  }
  const serverSockets = [options.ports.sip, options.ports.stun, options.ports.stunAlt].map((port) => ({ address: options.serverHost, port }));
  const serverQueue = () => [...udpSocketCounters(serverSockets).values()].reduce((sum, counters) => sum + counters.rxQueue, 0);
  const drain = async (maxWaitMs: number) => {
    const deadline = performance.now() + maxWaitMs;
    await yieldToLoop();
    while (serverQueue() > QUEUE_HIGH_WATER && performance.now() < deadline && options.serverAlive()) await sleep(1);
  };

  const result = { sent: 0, sendErrors: 0, stoppedEarly: null as string | null };
  const byFamily: Record<DatagramFamily, number> = { random: 0, stun: 0, sip: 0 };
  const byTarget: Record<TargetPort, number> = { sip: 0, stun: 0, stunAlt: 0 };
  const pending = [...(options.checkpoints ?? [])];
  for (let index = 0; index < options.datagrams; index++) {
    const datagram = fuzzDatagram(options.seed, index, options.serverHost);
    const protocol: ReflectorProtocol = datagram.target === 'sip' ? 'sip' : 'stun';
    ledger.record(protocol, datagram.bytes, index, datagram.callId);
    byFamily[datagram.family]++;
    byTarget[datagram.target]++;
    sockets[index % sockets.length]!.send(datagram.bytes, options.ports[datagram.target], options.serverHost, (err) => {
      if (err) result.sendErrors++;
      else result.sent++;
    });
    if ((index + 1) % BURST !== 0) continue;
    await drain(2_000);
    if (!options.serverAlive()) {
      result.stoppedEarly = `server process ended after ${index + 1} datagrams`;
      break;
    }
    const due = pending.filter((checkpoint) => index + 1 >= checkpoint.afterDatagrams);
    if (due.length > 0) {
      await drain(5_000);
      for (const checkpoint of due) {
        pending.splice(pending.indexOf(checkpoint), 1);
        checkpoint.run();
      }
    }
  }
  // Let the server finish its queue, then wait for replies to stop (300 ms of quiet, 5 s at most).
  await drain(5_000);
  const quietDeadline = performance.now() + 5_000;
  while (performance.now() - lastReplyAt < 300 && performance.now() < quietDeadline) await sleep(50);

  const clientCounters = udpSocketCounters(sockets.map((socket) => socket.address()));
  const serverCounters = udpSocketCounters(serverSockets);
  await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  return {
    ...result,
    byFamily,
    byTarget,
    answerable: { ...ledger.answerable },
    replies: { ...ledger.replies },
    keyCollisions: ledger.keyCollisions,
    violations,
    serverDrops: [...serverCounters.values()].reduce((sum, counters) => sum + counters.drops, 0),
    clientDrops: [...clientCounters.values()].reduce((sum, counters) => sum + counters.drops, 0),
    durationMs: performance.now() - started,
  };
}

async function bindSocket(address: string): Promise<dgram.Socket> {
  // 4 MiB (net.core.rmem_max here) so that no reply is lost while the fuzzer is busy sending.
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

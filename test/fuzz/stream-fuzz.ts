/**
 * runStreamFuzz opens a bounded number of hostile TCP and TLS connections to the SIP reflector:
 * junk that ends with a FIN, a reset or not at all, framing the server must refuse (headers past
 * 16 KiB, a bad Content-Length), slowloris partial requests, silent connections, non-TLS bytes and
 * stalled handshakes on the TLS port, and junk inside a completed TLS session.
 *
 * What it checks per connection:
 * - no byte comes back unless the bytes sent held an answerable request or an RFC 5626 ping
 *   (judged with the protocol package's SipStreamFramer and the fuzz oracle);
 * - connections the server must drop (bad framing, failed or stalled TLS handshake: 10 s timeout
 *   in sip-server.ts) are closed by the server, not by us.
 * Slowloris and silent connections are held until `releaseHeld` resolves: the server keeps those
 * up to its 120 s idle timeout, longer than a test may run, so they are checked for not breaking
 * anything rather than for being closed.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SipStreamFramer } from '@algwatch/protocol/sip';
import { isAnswerableSip } from './reply-oracle.js';
import { packetRandom, type SeededRandom } from './seeded-random.js';
import { sipMutant } from './sip-mutants.js';

export const STREAM_KINDS = {
  'tcp-junk': 100,
  'tcp-oversized-headers': 20,
  'tcp-bad-content-length': 20,
  'tcp-slowloris': 60,
  'tcp-silent': 40,
  'tls-raw-junk': 60,
  'tls-stalled-handshake': 40,
  'tls-junk-after-handshake': 40,
  'tls-slowloris': 20,
} as const;
export type StreamKind = keyof typeof STREAM_KINDS;

/** Kinds the server must close by itself, and how long it may take (TLS handshake timeout 10 s). */
const MUST_CLOSE: ReadonlySet<StreamKind> = new Set(['tcp-oversized-headers', 'tcp-bad-content-length', 'tls-raw-junk', 'tls-stalled-handshake']);
const MUST_CLOSE_WITHIN_MS = 20_000;
const HELD: ReadonlySet<StreamKind> = new Set(['tcp-slowloris', 'tcp-silent', 'tls-slowloris']);

export interface StreamFuzzOptions {
  seed: number;
  serverHost: string;
  tcpPort: number;
  tlsPort: number;
  sources: readonly string[];
  /** Held connections (slowloris, silent, junk left open) are closed by us once this resolves. */
  releaseHeld: Promise<void>;
}

export interface StreamFuzzResult {
  connections: number;
  byKind: Record<StreamKind, { opened: number; closedByServer: number }>;
  bytesSent: number;
  violations: string[];
}

interface Outcome {
  kind: StreamKind;
  closedByServer: boolean;
  violation: string | null;
  bytesSent: number;
}

/** runStreamFuzz opens every connection (staggered), waits for all to end and reports. */
export async function runStreamFuzz(options: StreamFuzzOptions): Promise<StreamFuzzResult> {
  // Stalled handshakes first: their 10 s timeout then overlaps everything else.
  const plan: StreamKind[] = [];
  for (const [kind, count] of Object.entries(STREAM_KINDS) as Array<[StreamKind, number]>) for (let i = 0; i < count; i++) plan.push(kind);
  const order = new Map<StreamKind, number>([['tls-stalled-handshake', 0]]);
  const shuffle = packetRandom(options.seed, -1);
  const planned = plan
    .map((kind) => ({ kind, sortKey: (order.get(kind) ?? 1) + shuffle.next() }))
    .sort((a, b) => a.sortKey - b.sortKey);
  const outcomes: Array<Promise<Outcome>> = [];
  for (const [index, { kind }] of planned.entries()) {
    outcomes.push(fuzzConnection(kind, index, options));
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  const settled = await Promise.all(outcomes);
  const byKind = Object.fromEntries(Object.keys(STREAM_KINDS).map((kind) => [kind, { opened: 0, closedByServer: 0 }])) as StreamFuzzResult['byKind'];
  for (const outcome of settled) {
    byKind[outcome.kind].opened++;
    if (outcome.closedByServer) byKind[outcome.kind].closedByServer++;
  }
  return {
    connections: settled.length,
    byKind,
    bytesSent: settled.reduce((sum, outcome) => sum + outcome.bytesSent, 0),
    violations: settled.flatMap((outcome) => (outcome.violation ? [outcome.violation] : [])),
  };
}

function fuzzConnection(kind: StreamKind, index: number, options: StreamFuzzOptions): Promise<Outcome> {
  const random = packetRandom(options.seed ^ 0x5eed, index);
  const localAddress = options.sources[index % options.sources.length]!;
  const toTls = kind.startsWith('tls-');
  const handshake = kind === 'tls-junk-after-handshake' || kind === 'tls-slowloris';
  const connectOptions = { host: options.serverHost, port: toTls ? options.tlsPort : options.tcpPort, localAddress };
  const socket: net.Socket = handshake ? tls.connect({ ...connectOptions, rejectUnauthorized: false }) : net.connect(connectOptions);
  const ready = handshake ? 'secureConnect' : 'connect';
  const payload = payloadFor(kind, random, index, options.serverHost);
  const mayBeAnswered = payloadMayBeAnswered(payload);
  const label = `${kind} #${index} from ${localAddress}`;

  return new Promise<Outcome>((resolve) => {
    let received = 0;
    let weAreClosing = false;
    let closedByServer = false;
    let bytesSent = 0;
    const timers: NodeJS.Timeout[] = [];
    const closeOurSide = (how: 'end' | 'reset' | 'destroy') => {
      if (socket.destroyed) return;
      weAreClosing = true;
      if (how === 'end') socket.end();
      // RST needs the raw TCP handle; a TLS socket wraps it, so it just closes.
      else if (how === 'reset' && !(socket instanceof tls.TLSSocket)) socket.resetAndDestroy();
      else socket.destroy();
    };
    let firstBytes = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (firstBytes.length < 16) firstBytes = Buffer.concat([firstBytes, chunk]).subarray(0, 16);
    });
    socket.on('error', () => {}); // resets and refused writes are expected here; 'close' follows
    socket.on('end', () => {
      if (!weAreClosing) closedByServer = true;
    });
    socket.once('close', () => {
      if (!weAreClosing) closedByServer = true;
      for (const timer of timers) clearTimeout(timer);
      let violation: string | null = null;
      // On the TLS port before any handshake, the only fair answer is one TLS alert (RFC 8446 §6).
      const tlsAlertOnly = toTls && !handshake && received === 7 && firstBytes[0] === 0x15;
      if (received > 0 && !mayBeAnswered && !tlsAlertOnly) {
        violation = `${label}: the server sent ${received} bytes in answer to junk (${firstBytes.toString('hex')}...)`;
      }
      else if (MUST_CLOSE.has(kind) && !closedByServer) violation = `${label}: the server kept the connection ${MUST_CLOSE_WITHIN_MS / 1000} s; it must close it`;
      resolve({ kind, closedByServer, violation, bytesSent });
    });
    // The server gets MUST_CLOSE_WITHIN_MS to drop what it must drop; then the check above fails
    // instead of the test hanging. Everything else ends by our hand, at the latest on releaseHeld.
    if (MUST_CLOSE.has(kind)) timers.push(setTimeout(() => closeOurSide('destroy'), MUST_CLOSE_WITHIN_MS));
    socket.once(ready, () => {
      if (kind === 'tcp-slowloris' || kind === 'tls-slowloris') {
        // A partial request trickled a few bytes at a time, never reaching the blank line.
        let offset = 0;
        const trickle = () => {
          if (socket.destroyed || offset >= payload.length) return;
          const piece = payload.subarray(offset, offset + random.int(1, 8));
          offset += piece.length;
          bytesSent += piece.length;
          socket.write(piece);
          timers.push(setTimeout(trickle, random.int(200, 700)));
        };
        trickle();
      } else if (payload.length > 0) {
        bytesSent += payload.length;
        socket.write(payload);
      }
      if (HELD.has(kind) || MUST_CLOSE.has(kind)) return; // held, or waiting for the server to close
      const ending = random.weighted({ end: 4, reset: 3, hold: 3 } as const);
      if (ending !== 'hold') timers.push(setTimeout(() => closeOurSide(ending), random.int(0, 500)));
    });
    void options.releaseHeld.then(() => {
      if (!MUST_CLOSE.has(kind)) closeOurSide('destroy');
    });
  });
}

/** payloadFor is what a connection of this kind sends (all of it, or trickled for slowloris). */
function payloadFor(kind: StreamKind, random: SeededRandom, index: number, serverHost: string): Buffer {
  const id = `fzs${index}`;
  switch (kind) {
    case 'tcp-junk':
    case 'tls-junk-after-handshake': {
      if (random.chance(0.4)) return random.bytes(random.int(1, 4000));
      const mutants = Array.from({ length: random.int(1, 3) }, (_, n) => sipMutant(random, `${id}m${n}`, serverHost).bytes);
      return Buffer.concat(mutants);
    }
    case 'tcp-oversized-headers':
      // Past the 16 KiB limit with no blank line: SipStreamFramer gives up and the server closes.
      return Buffer.from(`OPTIONS sip:echo@${serverHost} SIP/2.0\r\nX-Filler: ${'x'.repeat(17_000)}`, 'latin1');
    case 'tcp-bad-content-length':
      return Buffer.from(
        `INVITE sip:echo@${serverHost} SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK${id}\r\nContent-Length: ${random.pick(['-1', 'abc', '99999999999', '1e3'])}\r\n\r\n`,
        'latin1',
      );
    case 'tcp-slowloris':
    case 'tls-slowloris':
      return Buffer.from(
        `INVITE sip:echo@${serverHost} SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK${id}\r\nFrom: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:echo@${serverHost}>\r\nX-Algwatch-Probe: 1\r\nX-Slow: ${'s'.repeat(200)}`,
        'latin1',
      );
    case 'tcp-silent':
      return Buffer.alloc(0);
    case 'tls-raw-junk': {
      const junk = random.bytes(random.int(1, 2000));
      if (junk[0] === 0x16) junk[0] = 0x17; // not a handshake record: the server must fail at once
      return junk;
    }
    case 'tls-stalled-handshake':
      // A TLS record header announcing a 512-byte ClientHello (RFC 8446 §5.1), then silence.
      return random.chance(0.3) ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]), random.bytes(random.int(0, 40))]);
  }
}

/** payloadMayBeAnswered: whether the reflector may write anything back for these bytes. */
function payloadMayBeAnswered(payload: Buffer): boolean {
  for (const item of new SipStreamFramer().push(payload)) {
    if (item.kind === 'invalid') return false;
    if (item.kind === 'ping') return true;
    if (item.kind === 'message' && isAnswerableSip(item.bytes)) return true;
  }
  return false;
}

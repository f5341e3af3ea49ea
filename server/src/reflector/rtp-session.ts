/**
 * One test call's media on the reflector: a UDP socket on its own port that receives the agent's
 * RTP and, once proven, sends RTP back on two paths (to the SDP address, and to the source of the
 * agent's RTP: symmetric RTP / comedia), then a few pinhole-exposure packets from elsewhere.
 *
 * Abuse bounds (issue 14), since the SDP names an address and this sends media to it:
 * - nothing is sent until RTP carrying the session nonce (given only in the SIP answer) arrived, so
 *   the sender proved it receives the answer; only RTP with the nonce earns anything;
 * - every packet sent to an address is paid for by a packet received from that address, byte for
 *   byte (`credit`): the reflector never sends any address more packets or bytes than it got from it;
 * - the SDP stream goes only to the address the INVITE came from (another address is not sent to);
 * - the session ends on its own: unproven after proofTimeoutMs, idle after idleTimeoutMs, past
 *   MAX_PACKETS_PER_SESSION packets, and in any case after maxSessionMs.
 */
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { decodeRtpPacket, encodeRtpPacket, rtpTimestampAt, RTP_HEADER_BYTES, type RtpStreamKind } from '@algwatch/protocol/rtp';
import { RtpReceiveStats } from '@algwatch/protocol/rtp-stats';
import { hostPort, type RtpSessionReport, type RtpStreamReport } from '@algwatch/protocol/rtp-signalling';

/** G.711 at 20 ms: one packet every 20 ms per call. */
export const RTP_PACKET_INTERVAL_MS = 20;
/**
 * Most packets one session takes from the agent: 30 s at 100 packets/s, the probe's largest
 * settings. A sender past it is not a probe; the session ends, so its receive state (a set of
 * sequence numbers) stays small whatever arrives.
 */
export const MAX_PACKETS_PER_SESSION = 3_000;
/** Media "flows" once this many packets went out; then the pinhole test starts. */
const PINHOLE_AFTER_PACKETS = 25;

export interface RtpSessionLimits {
  maxSessionMs: number;
  proofTimeoutMs: number;
  idleTimeoutMs: number;
  /** Pinhole-exposure packets from each of the alternate address and the other port. */
  pinholePackets: number;
}

/** The sockets the pinhole test sends from; shared by all sessions. */
export interface PinholeSockets {
  altAddress: dgram.Socket | null;
  otherPort: dgram.Socket | null;
}

interface Endpoint {
  address: string;
  port: number;
}

interface OutStream {
  kind: RtpStreamKind;
  to: Endpoint | null;
  status: RtpStreamReport['status'];
  ssrc: number;
  sequence: number;
  timestampBase: number;
  sent: number;
}

export class RtpSession {
  readonly nonce = randomBytes(8).toString('hex');
  private readonly stats = new RtpReceiveStats();
  /** Packets and bytes each address sent with the nonce, minus what was sent to it. */
  private readonly credit = new Map<string, { packets: number; bytes: number }>();
  private mediaSource: Endpoint | null = null;
  private readonly streams: OutStream[] = [];
  private readonly startedAt = performance.now();
  private nextSendAt = 0;
  private turn = 0;
  private payloadBytes = 160;
  private lastEcho: { sentAtMs: number; receivedAt: number } | null = null;
  private readonly pinholeSent = { altAddress: 0, otherPort: 0 };
  private readonly timers: NodeJS.Timeout[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private ended = false;
  private accepted = 0;
  private finalReport: RtpSessionReport | null = null;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly signalling: Endpoint,
    private readonly sdpTarget: Endpoint | null,
    private readonly limits: RtpSessionLimits,
    private readonly pinholes: PinholeSockets,
    private readonly onEnd: (session: RtpSession, why: string) => void,
  ) {
    socket.on('message', (packet, remote) => this.receive(packet, { address: remote.address, port: remote.port }));
    socket.on('error', () => this.end('socket error'));
    this.timers.push(setTimeout(() => this.end('max duration'), limits.maxSessionMs));
    this.timers.push(setTimeout(() => { if (!this.mediaSource) this.end('never proven'); }, limits.proofTimeoutMs));
    for (const timer of this.timers) timer.unref();
  }

  /** open binds the session's media socket on an ephemeral port of `bind`. */
  static async open(bind: string, signalling: Endpoint, sdpTarget: Endpoint | null, limits: RtpSessionLimits, pinholes: PinholeSockets, onEnd: (session: RtpSession, why: string) => void): Promise<RtpSession> {
    const socket = dgram.createSocket({ type: bind.includes(':') ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, bind, () => { socket.off('error', reject); resolve(); });
    });
    return new RtpSession(socket, signalling, sdpTarget, limits, pinholes, onEnd);
  }

  get port(): number {
    return this.socket.address().port;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** isProven: RTP with the nonce has arrived (the caller receives at its address). */
  get isProven(): boolean {
    return this.mediaSource !== null;
  }

  /** tick sends what is due at `now` (one packet per 20 ms, alternating between the paths), paid from credit. */
  tick(now: number): void {
    if (this.ended || !this.mediaSource) return;
    if (now - this.nextSendAt > 5 * RTP_PACKET_INTERVAL_MS) this.nextSendAt = now; // no burst after a stall
    // Pinhole packets go first: credit rarely gets ahead of the paced streams, and a handful of
    // them costs the streams a 20 ms gap each, not a lost sequence number.
    if (now >= this.nextSendAt && this.sendPinholePacket(now)) this.nextSendAt += RTP_PACKET_INTERVAL_MS;
    while (now >= this.nextSendAt && this.sendNext(now)) this.nextSendAt += RTP_PACKET_INTERVAL_MS;
  }

  /** end stops the session (idempotent): the socket closes and the report is fixed. */
  end(why: string): void {
    if (this.ended) return;
    this.finalReport = this.report();
    this.ended = true;
    for (const timer of this.timers) clearTimeout(timer);
    clearTimeout(this.idleTimer);
    try { this.socket.close(); } catch { /* already closed */ }
    this.onEnd(this, why);
  }

  /** report is what the reflector received and sent so far (fixed once the session ended). */
  report(): RtpSessionReport {
    if (this.finalReport) return this.finalReport;
    const summary = this.stats.summary();
    const stream = (kinds: RtpStreamKind[], fallback: Endpoint | null): RtpStreamReport => {
      const found = this.streams.find((candidate) => kinds.includes(candidate.kind));
      if (found) return { sent: found.sent, status: found.sent === 0 && found.status === 'sent' ? 'not-sent-no-credit' : found.status, to: found.to ? hostPort(found.to.address, found.to.port) : null };
      return { sent: 0, status: 'not-sent-unproven', to: fallback ? hostPort(fallback.address, fallback.port) : null };
    };
    return {
      v: 1,
      received: summary.received,
      jitterMs: summary.jitterMs,
      maxGapMs: summary.maxGapMs,
      reordered: summary.reordered,
      mediaSource: this.mediaSource ? hostPort(this.mediaSource.address, this.mediaSource.port) : null,
      sdp: stream(['sdp', 'sdp-symmetric'], this.sdpTarget),
      symmetric: stream(['symmetric', 'sdp-symmetric'], null),
      pinhole: { ...this.pinholeSent },
    };
  }

  private receive(packet: Buffer, from: Endpoint): void {
    if (this.ended) return;
    const rtp = decodeRtpPacket(packet);
    // Only the agent's own stream with this session's nonce counts; anything else earns nothing.
    if (!rtp || rtp.kind !== 'agent' || rtp.nonce !== this.nonce) return;
    if (!this.mediaSource) this.prove(from);
    else if (from.address !== this.mediaSource.address || from.port !== this.mediaSource.port) return;
    if (++this.accepted > MAX_PACKETS_PER_SESSION) {
      this.end('too many packets');
      return;
    }
    const now = performance.now();
    this.stats.add(rtp.sequence, rtp.timestamp, now);
    const credit = this.credit.get(from.address) ?? { packets: 0, bytes: 0 };
    credit.packets += 1;
    credit.bytes += packet.length;
    this.credit.set(from.address, credit);
    this.payloadBytes = packet.length - RTP_HEADER_BYTES;
    this.lastEcho = { sentAtMs: rtp.sentAtMs, receivedAt: now };
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.end('agent went quiet'), this.limits.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** prove sets up the return paths once RTP with the nonce arrived from `source`. */
  private prove(source: Endpoint): void {
    this.mediaSource = source;
    const stream = (kind: RtpStreamKind, to: Endpoint | null, status: RtpStreamReport['status']): OutStream => ({
      kind, to, status, ssrc: randomInt(1, 2 ** 32 - 1), sequence: randomInt(0, 65_536), timestampBase: randomInt(0, 2 ** 32 - 1), sent: 0,
    });
    const sdp = this.sdpTarget;
    if (sdp && sdp.address === source.address && sdp.port === source.port) {
      this.streams.push(stream('sdp-symmetric', source, 'sent'));
      return;
    }
    // The SDP stream goes only to the address the INVITE came from: an SDP naming some other
    // address (a private one nothing rewrote, or a stranger's) gets nothing sent to it.
    const sdpAllowed = sdp !== null && sdp.address === this.signalling.address;
    this.streams.push(stream('sdp', sdp, sdpAllowed ? 'sent' : 'not-sent-address-mismatch'));
    this.streams.push(stream('symmetric', source, 'sent'));
  }

  /** sendNext sends the next path's packet; false when no path can send now (no credit). */
  private sendNext(now: number): boolean {
    const sending = this.streams.filter((stream) => stream.status === 'sent' && stream.to);
    for (let tried = 0; tried < sending.length; tried++) {
      const stream = sending[(this.turn + tried) % sending.length]!;
      const bytes = RTP_HEADER_BYTES + this.payloadBytes;
      if (!this.spend(stream.to!.address, bytes)) continue;
      this.turn = (this.turn + tried + 1) % sending.length;
      this.send(this.socket, stream.to!, stream.kind, stream, now);
      stream.sent += 1;
      return true;
    }
    return false;
  }

  /** sendPinholePacket sends the next pinhole-exposure packet once media flows, alternating the two sources; false when none is due or paid for. */
  private sendPinholePacket(now: number): boolean {
    const flowing = this.streams.reduce((sum, stream) => sum + stream.sent, 0) >= PINHOLE_AFTER_PACKETS;
    if (!flowing) return false;
    // Aim at the path the SDP opened when media is sent there (an ALG's expectation), else the symmetric one.
    const target = this.streams.find((stream) => (stream.kind === 'sdp' || stream.kind === 'sdp-symmetric') && stream.status === 'sent' && stream.sent > 0)?.to ?? this.mediaSource!;
    const sources = ([['altAddress', this.pinholes.altAddress, 'pinhole-alt-address'], ['otherPort', this.pinholes.otherPort, 'pinhole-other-port']] as const)
      .filter(([which, socket]) => socket !== null && this.pinholeSent[which] < this.limits.pinholePackets)
      .sort(([a], [b]) => this.pinholeSent[a] - this.pinholeSent[b]);
    const next = sources[0];
    if (!next || !this.spend(target.address, RTP_HEADER_BYTES + this.payloadBytes)) return false;
    const [which, socket, kind] = next;
    this.send(socket!, target, kind, { ssrc: 0x0a1c0000 + this.pinholeSent[which], sequence: this.pinholeSent[which], timestampBase: 0 }, now);
    this.pinholeSent[which] += 1;
    return true;
  }

  private spend(address: string, bytes: number): boolean {
    const credit = this.credit.get(address);
    if (!credit || credit.packets < 1 || credit.bytes < bytes) return false;
    credit.packets -= 1;
    credit.bytes -= bytes;
    return true;
  }

  private send(socket: dgram.Socket, to: Endpoint, kind: RtpStreamKind, stream: { ssrc: number; sequence: number; timestampBase: number }, now: number): void {
    const elapsed = now - this.startedAt;
    const packet = encodeRtpPacket({
      marker: false,
      sequence: stream.sequence,
      timestamp: rtpTimestampAt(stream.timestampBase, elapsed),
      ssrc: stream.ssrc,
      kind,
      nonce: this.nonce,
      sentAtMs: this.lastEcho?.sentAtMs ?? 0,
      heldMs: this.lastEcho ? now - this.lastEcho.receivedAt : 0,
      payloadBytes: this.payloadBytes,
    });
    stream.sequence = (stream.sequence + 1) & 0xffff;
    socket.send(packet, to.port, to.address);
  }
}

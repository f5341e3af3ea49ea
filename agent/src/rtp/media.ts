/**
 * The agent's half of a test call's media: an RTP socket on an even port (RFC 3550 §11, as phones
 * use), a paced G.711 stream to the reflector, and the count of every stream that comes back, by
 * the kind the reflector marked it with (SDP path, symmetric path, pinhole packets).
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeRtpPacket, encodeRtpPacket, rtpTimestampAt, type RtpStreamKind } from '@algwatch/protocol/rtp';
import { RtpReceiveStats, type RtpReceiveSummary } from '@algwatch/protocol/rtp-stats';
import { hostPort } from '@algwatch/protocol/rtp-signalling';

export interface MediaPlan {
  /** Where the reflector receives (its SDP answer's c= and m=). */
  to: { address: string; port: number };
  nonce: string;
  durationMs: number;
  packetsPerSecond: number;
  payloadBytes: number;
  /** Time to keep listening after the last packet went out, for late packets. */
  graceMs: number;
}

/** What came back on one kind of stream. */
export interface InboundStream {
  summary: RtpReceiveSummary;
  /** Source address:port of the packets (the first one seen). */
  from: string;
}

export interface MediaOutcome {
  sent: number;
  inbound: Partial<Record<RtpStreamKind, InboundStream>>;
  /** Round trips measured from the reflector's echo of agent send times, ms. */
  rttSamplesMs: number[];
}

/** openRtpSocket binds a UDP socket on `localAddress` at a random even port, or any port if none is free. */
export async function openRtpSocket(localAddress: string): Promise<dgram.Socket> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = 2 * randomInt(8_192, 16_384); // 16384..32766, the range phones commonly use
    const socket = await bind(localAddress, port).catch(() => null);
    if (socket) return socket;
  }
  return bind(localAddress, 0);
}

function bind(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => { socket.close(); reject(err); });
    socket.bind(port, address, () => { socket.removeAllListeners('error'); socket.on('error', () => {}); resolve(socket); });
  });
}

/**
 * exchangeMedia sends the agent's stream for plan.durationMs at plan.packetsPerSecond (the RTP
 * timestamp follows the real send time, so the far end's jitter is the network's, not the event
 * loop's) while recording what arrives, then listens graceMs longer. Aborting stops early.
 */
export async function exchangeMedia(socket: dgram.Socket, plan: MediaPlan, signal: AbortSignal): Promise<MediaOutcome> {
  const stats = new Map<RtpStreamKind, { stats: RtpReceiveStats; from: string }>();
  const rttSamplesMs: number[] = [];
  const onMessage = (packet: Buffer, remote: dgram.RemoteInfo) => {
    const now = performance.now();
    const rtp = decodeRtpPacket(packet);
    if (!rtp || rtp.kind === 'agent' || rtp.nonce !== plan.nonce) return;
    let entry = stats.get(rtp.kind);
    if (!entry) {
      entry = { stats: new RtpReceiveStats(), from: hostPort(remote.address, remote.port) };
      stats.set(rtp.kind, entry);
    }
    entry.stats.add(rtp.sequence, rtp.timestamp, now);
    if (rtp.sentAtMs > 0) {
      const rtt = now - rtp.sentAtMs - rtp.heldMs;
      if (rtt >= 0 && rtt < 10_000) rttSamplesMs.push(rtt);
    }
  };
  socket.on('message', onMessage);
  const interval = 1000 / plan.packetsPerSecond;
  const total = Math.round((plan.durationMs * plan.packetsPerSecond) / 1000);
  const ssrc = randomInt(1, 2 ** 32 - 1);
  const firstSequence = randomInt(0, 65_536);
  const timestampBase = randomInt(0, 2 ** 32 - 1);
  let start = performance.now();
  let sent = 0;
  try {
    while (sent < total && !signal.aborted) {
      const due = start + sent * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait, undefined, { signal }).catch(() => {});
      else if (wait < -5 * interval) start += -wait; // a stalled loop resumes its pace, no burst
      if (signal.aborted) break;
      const now = performance.now();
      socket.send(
        encodeRtpPacket({
          marker: sent === 0,
          sequence: firstSequence + sent,
          timestamp: rtpTimestampAt(timestampBase, now - start),
          ssrc,
          kind: 'agent',
          nonce: plan.nonce,
          sentAtMs: now,
          heldMs: 0,
          payloadBytes: plan.payloadBytes,
        }),
        plan.to.port,
        plan.to.address,
      );
      sent += 1;
    }
    if (!signal.aborted) await sleep(plan.graceMs, undefined, { signal }).catch(() => {});
  } finally {
    socket.off('message', onMessage);
  }
  const inbound: MediaOutcome['inbound'] = {};
  for (const [kind, entry] of stats) inbound[kind] = { summary: entry.stats.summary(), from: entry.from };
  return { sent, inbound, rttSamplesMs };
}

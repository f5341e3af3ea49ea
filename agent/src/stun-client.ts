/**
 * StunClient runs STUN transactions over one UDP socket the caller owns, any number at a time,
 * matching answers by transaction id. Requests are retransmitted RFC 8489 §6.2.1-style (RTO
 * doubling from rtoMs) until an answer, the timeout, or the caller's AbortSignal.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import {
  STUN_METHOD_BINDING,
  decodeStun,
  encodeStun,
  newTransactionId,
  type StunAttributes,
  type StunMessage,
  type TransportAddress,
} from '@algwatch/protocol/stun';
import { stunProbeUsername, type ProbeKey } from '@algwatch/protocol/probe-signature';

export interface StunTransactionOptions {
  signal?: AbortSignal;
  /** First retransmission timeout; doubles each time (RFC 8489 §6.2.1). Default 200 ms. */
  rtoMs?: number;
  /** Transmissions at most, the first included. Default 4 (sent at 0, 200, 600, 1400 ms). */
  maxTransmissions?: number;
  /** Give up this long after the first transmission. Default 2000 ms. */
  timeoutMs?: number;
  /**
   * Pad the request with PADDING (RFC 5780 §7.6) to this many bytes. algwatch's reflector answers
   * a request that asks for more than a plain answer (CHANGE-REQUEST, RESPONSE-PORT,
   * ALGWATCH-RESPONSE-DELAY) with no more bytes than the request carried, so such requests pay for
   * their answers up front (see PADDED_REQUEST_BYTES).
   */
  padToBytes?: number;
}

/**
 * PADDED_REQUEST_BYTES: what a request must carry for the reflector to answer it in full. An
 * RFC 5780 answer is at most 128 bytes (IPv6); a delayed one costs an acknowledgement (up to 52)
 * and two copies of the answer.
 */
export const PADDED_REQUEST_BYTES = { rfc5780: 160, delayed: 320 } as const;

/** StunReply is a response matched to its request. */
export interface StunReply {
  message: StunMessage;
  /** Milliseconds from the last transmission to this answer. */
  rttMs: number;
  /** performance.now() of the last transmission before the answer. */
  lastSentAt: number;
  /** Where the answer came from (RFC 5780 tests check it). */
  from: TransportAddress;
}

interface Waiter {
  lastSentAt: number;
  resolve(reply: StunReply | null): void;
}

export class StunClient {
  private readonly waiters = new Map<string, Waiter>();
  private readonly onMessage = (packet: Buffer, rinfo: RemoteInfo) => {
    const decoded = decodeStun(packet);
    if (!decoded.ok || (decoded.message.class !== 'success' && decoded.message.class !== 'error')) return;
    const key = decoded.message.transactionId.toString('hex');
    const waiter = this.waiters.get(key);
    if (!waiter) return;
    this.waiters.delete(key);
    const now = performance.now();
    waiter.resolve({ message: decoded.message, rttMs: now - waiter.lastSentAt, lastSentAt: waiter.lastSentAt, from: { address: rinfo.address, port: rinfo.port } });
  };

  /** The last socket error (an ICMP unreachable on a connected socket lands here), for reasons. */
  lastError: Error | null = null;
  private readonly onError = (err: Error) => {
    this.lastError = err; // without a listener, a socket error would crash the agent
  };

  /**
   * With a probeKey (only toward algwatch's reflector), every request carries USERNAME and
   * MESSAGE-INTEGRITY so the reflector pays its answer from the site's budget.
   */
  constructor(
    private readonly socket: Socket,
    private readonly probeKey?: ProbeKey,
  ) {
    socket.on('message', this.onMessage);
    socket.on('error', this.onError);
  }

  /**
   * request sends a Binding request with `attributes` to `to` (null: the socket is connected) and
   * resolves with the first answer, or null when none came in time. Rejects only when the socket
   * cannot send at all (e.g. no route), which callers report as an error.
   */
  async request(to: TransportAddress | null, attributes: StunAttributes = {}, options: StunTransactionOptions = {}): Promise<StunReply | null> {
    const transactionId = newTransactionId();
    const header = { method: STUN_METHOD_BINDING, class: 'request', transactionId } as const;
    const signing = this.probeKey ? { username: stunProbeUsername(this.probeKey) } : {};
    const encodeOptions = this.probeKey ? { integrityKey: this.probeKey.secret } : {};
    let packet = encodeStun(header, { ...attributes, ...signing }, encodeOptions);
    // PADDING's own header is 4 bytes; its value is padded to 4 (RFC 8489 §14).
    if (options.padToBytes !== undefined && packet.length + 4 < options.padToBytes) {
      packet = encodeStun(header, { ...attributes, ...signing, paddingBytes: (options.padToBytes - packet.length - 4) & ~3 }, encodeOptions);
    }
    const rto = options.rtoMs ?? 200;
    const maxTransmissions = options.maxTransmissions ?? 4;
    const timeoutMs = options.timeoutMs ?? 2000;
    const started = performance.now();
    const answer = this.expect(transactionId, { ...options, timeoutMs });
    const waiter = this.waiters.get(transactionId.toString('hex'));
    let transmissions = 0;
    let timer: NodeJS.Timeout | undefined;
    const transmit = async (): Promise<void> => {
      if (!this.waiters.has(transactionId.toString('hex'))) return;
      transmissions++;
      if (waiter) waiter.lastSentAt = performance.now();
      await this.send(packet, to);
      if (transmissions < maxTransmissions) {
        const wait = rto * 2 ** (transmissions - 1);
        if (performance.now() - started + wait < timeoutMs) timer = setTimeout(() => void transmit().catch(() => {}), wait);
      }
    };
    try {
      await transmit();
      return await answer;
    } catch (err) {
      this.waiters.delete(transactionId.toString('hex'));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * expect waits for an answer to `transactionId` without sending anything: the binding-lifetime
   * probe uses it for the reflector's delayed second answer. Null on timeout or abort.
   */
  expect(transactionId: Buffer, options: { signal?: AbortSignal; timeoutMs: number; sentAt?: number }): Promise<StunReply | null> {
    const key = transactionId.toString('hex');
    return new Promise<StunReply | null>((resolve) => {
      const finish = (reply: StunReply | null) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(key);
        resolve(reply);
      };
      const onAbort = () => finish(null);
      const timer = setTimeout(() => finish(null), options.timeoutMs);
      if (options.signal?.aborted) return finish(null);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(key, { lastSentAt: options.sentAt ?? performance.now(), resolve: finish });
    });
  }

  /** close stops listening on the socket and ends pending transactions with null (the socket stays the caller's). */
  close(): void {
    this.socket.off('message', this.onMessage);
    this.socket.off('error', this.onError);
    for (const waiter of [...this.waiters.values()]) waiter.resolve(null);
    this.waiters.clear();
  }

  private send(packet: Buffer, to: TransportAddress | null): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err: Error | null) => (err ? reject(err) : resolve());
      if (to) this.socket.send(packet, to.port, to.address, done);
      else this.socket.send(packet, done);
    });
  }
}

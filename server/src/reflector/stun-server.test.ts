import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  STUN_ATTR,
  STUN_METHOD_BINDING,
  decodeStun,
  encodeStun,
  newTransactionId,
  type StunAttributes,
  type StunMessage,
  type TransportAddress,
} from '@algwatch/protocol/stun';
import { SourceRateLimiter } from './rate-limit.js';
import { MIN_RESPONSE_CAP, startStunReflector, type StunReflector, type StunReflectorOptions } from './stun-server.js';

interface Received {
  bytes: Buffer;
  message: StunMessage | null;
  from: TransportAddress;
  at: number;
}

/** A plain UDP client socket on 127.0.0.1 that records everything it receives. */
async function client(): Promise<{ socket: Socket; port: number; received: Received[]; next(timeoutMs?: number): Promise<Received | null> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const received: Received[] = [];
  const waiting: Array<(r: Received) => void> = [];
  socket.on('message', (bytes, rinfo) => {
    const decoded = decodeStun(bytes);
    const entry = { bytes, message: decoded.ok ? decoded.message : null, from: { address: rinfo.address, port: rinfo.port }, at: performance.now() };
    received.push(entry);
    waiting.shift()?.(entry);
  });
  sockets.push(socket);
  let read = 0;
  return {
    socket,
    port: socket.address().port,
    received,
    next: (timeoutMs = 1000) =>
      new Promise((resolve) => {
        if (read < received.length) return resolve(received[read++]!);
        const timer = setTimeout(() => resolve(null), timeoutMs);
        waiting.push((entry) => {
          clearTimeout(timer);
          read++;
          resolve(entry);
        });
      }),
  };
}

const sockets: Socket[] = [];
const reflectors: StunReflector[] = [];

async function reflector(options: Partial<StunReflectorOptions> = {}): Promise<StunReflector> {
  const started = await startStunReflector({ bind: '127.0.0.1', port: 0, altPort: 0, ...options });
  reflectors.push(started);
  return started;
}

function bindingRequest(attributes: StunAttributes = {}, fingerprint = false): Buffer {
  return encodeStun({ method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId() }, attributes, { fingerprint });
}

function send(socket: Socket, bytes: Buffer, to: TransportAddress): void {
  socket.send(bytes, to.port, to.address);
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  for (const started of reflectors.splice(0)) await started.close();
});

describe('startStunReflector', () => {
  it('answers a plain 20-byte Binding request with the mapped address, origin, SOFTWARE and FINGERPRINT', async () => {
    const stun = await reflector();
    const peer = await client();
    const request = bindingRequest();
    expect(request.length).toBe(20);
    send(peer.socket, request, stun.sockets[0]!);
    const answer = await peer.next();
    expect(answer?.message).toMatchObject({
      class: 'success',
      transactionId: request.subarray(8, 20),
      xorMappedAddress: { address: '127.0.0.1', port: peer.port },
      mappedAddress: { address: '127.0.0.1', port: peer.port },
      responseOrigin: stun.sockets[0],
      software: 'algwatch',
      fingerprint: true,
    });
    expect(answer?.message?.otherAddress).toBeUndefined(); // RFC 5780 §6: no alternate address, no OTHER-ADDRESS
    expect(answer!.bytes.length).toBeLessThanOrEqual(MIN_RESPONSE_CAP);
    expect(stun.stats()).toMatchObject({ received: 1, answered: 1, dropped: 0 });
  });

  it('answers CHANGE-REQUEST from the socket with the changed port and address', async () => {
    const stun = await reflector({ altAddress: '127.0.0.2' });
    const [primary, altPort, altAddress, altBoth] = stun.sockets;
    expect(stun.sockets).toHaveLength(4);
    expect(altAddress).toEqual({ address: '127.0.0.2', port: primary!.port });
    const peer = await client();
    const cases: Array<[StunAttributes['changeRequest'], TransportAddress]> = [
      [{ changeIp: false, changePort: true }, altPort!],
      [{ changeIp: true, changePort: false }, altAddress!],
      [{ changeIp: true, changePort: true }, altBoth!],
    ];
    for (const [changeRequest, expected] of cases) {
      send(peer.socket, bindingRequest({ changeRequest }), primary!);
      const answer = await peer.next();
      expect(answer?.from).toEqual(expected);
      expect(answer?.message?.responseOrigin).toEqual(expected);
      expect(answer?.message?.otherAddress).toEqual(altBoth); // OTHER-ADDRESS is relative to where the request arrived
    }
  });

  it('refuses to change address with 420 naming CHANGE-REQUEST when it has no alternate address', async () => {
    const stun = await reflector();
    const peer = await client();
    send(peer.socket, bindingRequest({ changeRequest: { changeIp: true, changePort: true } }), stun.sockets[0]!);
    const answer = await peer.next();
    expect(answer?.message).toMatchObject({ class: 'error', errorCode: { code: 420 }, unknownAttributes: [STUN_ATTR.CHANGE_REQUEST] });
  });

  it('sends the answer to the port named in RESPONSE-PORT', async () => {
    const stun = await reflector();
    const [sender, receiver] = [await client(), await client()];
    send(sender.socket, bindingRequest({ responsePort: receiver.port }), stun.sockets[0]!);
    const answer = await receiver.next();
    expect(answer?.message?.xorMappedAddress).toEqual({ address: '127.0.0.1', port: sender.port });
    expect(sender.received).toHaveLength(0);
  });

  it('acknowledges a delayed request at once and answers again, twice, after the delay', async () => {
    const stun = await reflector();
    const peer = await client();
    const sentAt = performance.now();
    send(peer.socket, bindingRequest({ responseDelayMs: 400 }), stun.sockets[0]!);
    const ack = await peer.next();
    expect(ack?.message?.responseDelayMs).toBe(400);
    expect(stun.stats().pendingDelayed).toBe(1);
    const final = await peer.next(2000);
    expect(final?.message).toMatchObject({ class: 'success', responseDelayMs: 0, transactionId: ack?.message?.transactionId });
    expect(final!.at - sentAt).toBeGreaterThanOrEqual(395);
    const copy = await peer.next(2000);
    expect(copy?.bytes).toEqual(final?.bytes);
    expect(stun.stats().pendingDelayed).toBe(0);
  });

  it('caps delayed answers per source and forgets them on close', async () => {
    const stun = await reflector({ maxPendingPerSource: 2, maxDelayMs: 60_000 });
    const peer = await client();
    for (let i = 0; i < 3; i++) send(peer.socket, bindingRequest({ responseDelayMs: 3_600_000 }), stun.sockets[0]!);
    const acks = [await peer.next(), await peer.next(), await peer.next(300)];
    expect(acks.map((ack) => ack?.message?.responseDelayMs ?? null)).toEqual([60_000, 60_000, null]);
    expect(stun.stats()).toMatchObject({ pendingDelayed: 2, dropped: 1 });
    await stun.close();
    expect(stun.stats().pendingDelayed).toBe(0);
  });

  it('ignores malformed packets, indications and responses, and still answers afterwards', async () => {
    const stun = await reflector({ altAddress: '127.0.0.2' });
    const peer = await client();
    const valid = bindingRequest({ software: 'fuzz', changeRequest: { changeIp: false, changePort: false } }, true);
    const junk: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'),
      encodeStun({ method: STUN_METHOD_BINDING, class: 'indication', transactionId: newTransactionId() }),
      encodeStun({ method: STUN_METHOD_BINDING, class: 'success', transactionId: newTransactionId() }),
      encodeStun({ method: 0x003, class: 'request', transactionId: newTransactionId() }), // Allocate: not ours
    ];
    for (let i = 0; i < 600; i++) {
      const mutated = Buffer.from(valid);
      mutated[Math.floor(Math.random() * mutated.length)] ^= 1 + Math.floor(Math.random() * 255);
      junk.push(mutated.subarray(0, i % 3 === 0 ? Math.floor(Math.random() * mutated.length) : mutated.length));
    }
    for (let i = 0; i < 200; i++) junk.push(Buffer.from(Array.from({ length: 1 + (i % 300) }, () => Math.floor(Math.random() * 256))));
    // A few damaged copies are still well-formed Binding requests (a damaged FINGERPRINT type, or a
    // SOFTWARE length that swallows the FINGERPRINT); those, and only those, deserve an answer.
    const wellFormed = junk.filter((packet) => {
      const decoded = decodeStun(packet);
      return decoded.ok && decoded.message.class === 'request' && decoded.message.method === STUN_METHOD_BINDING;
    });
    for (let index = 0; index < junk.length; index++) {
      send(peer.socket, junk[index]!, stun.sockets[index % 4]!);
      if (index % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 10)); // stay under the socket buffers
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(peer.received).toHaveLength(wellFormed.length);
    expect(wellFormed.length).toBeLessThan(40);
    expect(stun.stats().received).toBe(junk.length);
    const after = await client();
    send(after.socket, valid, stun.sockets[0]!);
    expect((await after.next())?.message?.xorMappedAddress).toEqual({ address: '127.0.0.1', port: after.port });
  });

  it('never sends more than max(3 × request, 128) bytes, even for padded or odd requests', async () => {
    const stun = await reflector({ altAddress: '127.0.0.2' });
    const peer = await client();
    const requests = [
      bindingRequest(),
      bindingRequest({ paddingBytes: 400 }),
      bindingRequest({ responseDelayMs: 0, software: 'x' }),
      bindingRequest({ changeRequest: { changeIp: true, changePort: true } }),
      Buffer.concat([bindingRequest(), Buffer.from('000f0000', 'hex')]), // unknown comprehension-required type
    ];
    requests[4]!.writeUInt16BE(4, 2);
    for (const request of requests) {
      send(peer.socket, request, stun.sockets[0]!);
      const answer = await peer.next();
      expect(answer, `answer to a ${request.length}-byte request`).not.toBeNull();
      expect(answer!.bytes.length).toBeLessThanOrEqual(Math.max(3 * request.length, MIN_RESPONSE_CAP));
    }
    expect(peer.received[1]!.bytes.length).toBe(requests[1]!.length); // RFC 5780 §7.6: padded to the request's size
    expect(peer.received[4]!.message).toMatchObject({ class: 'error', unknownAttributes: [0x000f] });
  });

  it('pays every answer from the source rate limiter', async () => {
    const stun = await reflector({ limiter: new SourceRateLimiter({ ratePerSecond: 0.001, burst: 3, maxSources: 10 }) });
    const peer = await client();
    for (let n = 0; n < 5; n++) send(peer.socket, bindingRequest(), stun.sockets[0]!);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(peer.received).toHaveLength(3);
    expect(stun.stats()).toMatchObject({ received: 5, answered: 3, dropped: 2 });
  });

  it('refuses a wildcard bind together with an alternate address, in one line', async () => {
    await expect(startStunReflector({ bind: '0.0.0.0', altAddress: '127.0.0.2', port: 0, altPort: 0 })).rejects.toThrow(
      'STUN: --bind must be a specific address when --alt-address is set (RFC 5780 needs to know which address answered)',
    );
  });
});

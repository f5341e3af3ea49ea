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
import { STUN_BUSY_CODE, probeKeyOfToken, stunProbeUsername, type ProbeKey } from '@algwatch/protocol/probe-signature';
import { hashAgentToken } from '../relational/agent-token.js';
import { SourceRateLimiter } from './rate-limit.js';
import { SignedProbes } from './signed-probes.js';
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

/** paddedRequest is a Binding request padded (RFC 5780 PADDING) to `bytes`, as the algwatch agent sends those that ask for more. */
function paddedRequest(attributes: StunAttributes, bytes: number): Buffer {
  const bare = bindingRequest(attributes).length;
  const request = bindingRequest({ ...attributes, paddingBytes: (bytes - bare - 4) & ~3 });
  expect(request.length).toBe(bytes);
  return request;
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
    // coturn 4.6.1 answers the same 20-byte request with 80 bytes (bench: npm run bench -- reflection).
    expect(answer!.bytes.length).toBeLessThanOrEqual(80);
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
      send(peer.socket, paddedRequest({ changeRequest }, 160), primary!);
      const answer = await peer.next();
      expect(answer?.from).toEqual(expected);
      expect(answer?.message?.responseOrigin).toEqual(expected);
      expect(answer?.message?.otherAddress).toEqual(altBoth); // OTHER-ADDRESS is relative to where the request arrived
    }
  });

  it('refuses to change address with 420 naming CHANGE-REQUEST when it has no alternate address', async () => {
    const stun = await reflector();
    const peer = await client();
    send(peer.socket, paddedRequest({ changeRequest: { changeIp: true, changePort: true } }, 160), stun.sockets[0]!);
    const answer = await peer.next();
    expect(answer?.message).toMatchObject({ class: 'error', errorCode: { code: 420 }, unknownAttributes: [STUN_ATTR.CHANGE_REQUEST] });
  });

  it('sends the answer to the port named in RESPONSE-PORT', async () => {
    const stun = await reflector();
    const [sender, receiver] = [await client(), await client()];
    send(sender.socket, paddedRequest({ responsePort: receiver.port }, 160), stun.sockets[0]!);
    const answer = await receiver.next();
    expect(answer?.message?.xorMappedAddress).toEqual({ address: '127.0.0.1', port: sender.port });
    expect(sender.received).toHaveLength(0);
  });

  it('acknowledges a delayed request at once and answers again, twice, after the delay', async () => {
    const stun = await reflector();
    const peer = await client();
    const sentAt = performance.now();
    send(peer.socket, paddedRequest({ responseDelayMs: 400 }, 320), stun.sockets[0]!);
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
    for (let i = 0; i < 3; i++) send(peer.socket, paddedRequest({ responseDelayMs: 3_600_000 }, 320), stun.sockets[0]!);
    const acks = [await peer.next(), await peer.next(), await peer.next(300)];
    expect(acks.map((ack) => ack?.message?.responseDelayMs ?? null)).toEqual([60_000, 60_000, null]);
    expect(stun.stats()).toMatchObject({ pendingDelayed: 2, dropped: 1 });
    await stun.close();
    expect(stun.stats().pendingDelayed).toBe(0);
  });

  it('ignores malformed packets, indications and responses, and still answers afterwards', async () => {
    const stun = await reflector({ altAddress: '127.0.0.2' });
    const peer = await client();
    // Padded, as the agent sends a CHANGE-REQUEST: unpadded, it would get no answer by design.
    const valid = encodeStun(
      { method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId() },
      { software: 'fuzz', changeRequest: { changeIp: false, changePort: false }, paddingBytes: 100 },
      { fingerprint: true },
    );
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
      paddedRequest({ responseDelayMs: 0, software: 'x' }, 160),
      paddedRequest({ changeRequest: { changeIp: true, changePort: true } }, 160),
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

  it('sends no more bytes than a request carried for everything beyond a plain answer, over its whole life', async () => {
    const stun = await reflector({ altAddress: '127.0.0.2' });
    const [sender, receiver] = [await client(), await client()];
    const cases: Array<{ what: string; request: Buffer; answers: number; at: Awaited<ReturnType<typeof client>> }> = [
      { what: 'CHANGE-REQUEST, padded', request: paddedRequest({ changeRequest: { changeIp: true, changePort: true } }, 160), answers: 1, at: sender },
      { what: 'RESPONSE-PORT, padded', request: paddedRequest({ responsePort: receiver.port }, 160), answers: 1, at: receiver },
      { what: 'ALGWATCH-RESPONSE-DELAY, padded', request: paddedRequest({ responseDelayMs: 200 }, 320), answers: 3, at: sender },
    ];
    for (const { what, request, answers, at } of cases) {
      const before = at.received.length;
      send(sender.socket, request, stun.sockets[0]!);
      for (let i = 0; i < answers; i++) expect(await at.next(2_000), `${what}: answer ${i + 1}`).not.toBeNull();
      const bytesOut = at.received.slice(before).reduce((sum, answer) => sum + answer.bytes.length, 0);
      expect(bytesOut, what).toBeLessThanOrEqual(request.length);
    }
    expect(await sender.next(300)).toBeNull(); // nothing more came later

    // The same requests without padding cannot be answered within their size: no answer at all.
    for (const request of [bindingRequest({ changeRequest: { changeIp: true, changePort: false } }), bindingRequest({ responsePort: receiver.port }), bindingRequest({ responseDelayMs: 200 })]) {
      send(sender.socket, request, stun.sockets[0]!);
    }
    expect(await sender.next(500)).toBeNull();
    expect(await receiver.next(100)).toBeNull();
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

  describe('signed requests (USERNAME + MESSAGE-INTEGRITY with a site probe key)', () => {
    const token = 'agent-token-of-site-north-0123456789abcdefghijk';
    const key: ProbeKey = probeKeyOfToken(token);
    const signed = (nowMs = Date.now(), attributes: StunAttributes = {}) =>
      encodeStun({ method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId() }, { ...attributes, username: stunProbeUsername(key, nowMs) }, { integrityKey: key.secret });
    const setup = async (siteBurst: number) => {
      const signedProbes = new SignedProbes({ ratePerSecond: 0.001, burst: siteBurst });
      signedProbes.setTokens([{ siteId: 'north', tokenHash: hashAgentToken(token) }]);
      // The address budget is already empty, as a spoofed flood from the site's address leaves it.
      const limiter = new SourceRateLimiter({ ratePerSecond: 0.001, burst: 1, maxSources: 10 });
      const stun = await reflector({ limiter, signedProbes });
      const peer = await client();
      send(peer.socket, bindingRequest(), stun.sockets[0]!);
      expect((await peer.next())?.message?.class).toBe('success');
      return { stun, peer, signedProbes };
    };

    it('answers a signed request from the site budget while the address budget is empty; unsigned, stale, forged and replayed ones get nothing', async () => {
      const { stun, peer } = await setup(10);
      const to = stun.sockets[0]!;
      const pause = () => new Promise((resolve) => setTimeout(resolve, 300));
      send(peer.socket, bindingRequest(), to);
      const good = signed();
      send(peer.socket, good, to);
      await pause();
      // One answer for the two: the signed one's.
      expect(peer.received).toHaveLength(2);
      const answer = peer.received[1]!;
      expect(answer.message?.transactionId).toEqual(decodeStun(good).ok ? (decodeStun(good) as { message: StunMessage }).message.transactionId : null);
      expect(answer.message?.xorMappedAddress).toEqual({ address: '127.0.0.1', port: peer.port });

      send(peer.socket, good, to); // the same signed request again: a replay pays from the address
      send(peer.socket, signed(Date.now() - 10 * 60_000), to); // outside the time window
      const forged = signed();
      forged[forged.length - 12] ^= 1; // inside MESSAGE-INTEGRITY (FINGERPRINT left stale too)
      send(peer.socket, forged, to);
      const otherKey = probeKeyOfToken('another-token');
      send(peer.socket, encodeStun({ method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId() }, { username: stunProbeUsername(otherKey) }, { integrityKey: otherKey.secret }), to);
      await pause();
      expect(peer.received).toHaveLength(2);
    });

    it('answers "busy" (508, no larger than the request) when the site spent its budget, and a revoked key counts as unsigned', async () => {
      const { stun, peer, signedProbes } = await setup(1);
      const to = stun.sockets[0]!;
      send(peer.socket, signed(), to);
      expect((await peer.next())?.message?.class).toBe('success');
      const request = signed();
      send(peer.socket, request, to);
      const busy = await peer.next();
      expect(busy?.message?.class).toBe('error');
      expect(busy?.message?.errorCode?.code).toBe(STUN_BUSY_CODE);
      expect(busy!.bytes.length).toBeLessThanOrEqual(request.length);

      signedProbes.setTokens([]); // the token was revoked: its key no longer names a site
      send(peer.socket, signed(), to);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(peer.received).toHaveLength(3);
    });

    it('pays CHANGE-REQUEST and delayed answers of a signed request from the site, still within the request size', async () => {
      const { stun, peer } = await setup(10);
      const request = signed(Date.now(), { responseDelayMs: 50, paddingBytes: 240 });
      send(peer.socket, request, stun.sockets[0]!);
      const replies = [await peer.next(), await peer.next(), await peer.next()];
      expect(replies.map((reply) => reply?.message?.class)).toEqual(['success', 'success', 'success']);
      const sent = replies.reduce((sum, reply) => sum + reply!.bytes.length, 0);
      expect(sent).toBeLessThanOrEqual(request.length);
    });
  });
});

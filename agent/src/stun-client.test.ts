import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { STUN_METHOD_BINDING, decodeStun, encodeStun } from '@algwatch/protocol/stun';
import { startStunReflector, type StunReflector } from '../../server/src/reflector/stun-server.js';
import { PADDED_REQUEST_BYTES, StunClient } from './stun-client.js';

const sockets: Socket[] = [];
const reflectors: StunReflector[] = [];

async function udp(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  sockets.push(socket);
  return socket;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  for (const reflector of reflectors.splice(0)) await reflector.close();
});

describe('StunClient', () => {
  it('runs twenty transactions at once over one socket and matches each answer to its request', async () => {
    const reflector = await startStunReflector({ bind: '127.0.0.1', port: 0, altPort: 0 });
    reflectors.push(reflector);
    const socket = await udp();
    const client = new StunClient(socket);
    // Odd requests ask for a changed port, so each answer's source shows it was matched to its own request.
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        client.request(
          reflector.sockets[0]!,
          n % 2 ? { changeRequest: { changeIp: false, changePort: true } } : {},
          n % 2 ? { padToBytes: PADDED_REQUEST_BYTES.rfc5780 } : {},
        ),
      ),
    );
    replies.forEach((reply, n) => {
      expect(reply?.message.xorMappedAddress).toEqual({ address: '127.0.0.1', port: socket.address().port });
      expect(reply?.from).toEqual(reflector.sockets[n % 2]);
    });
    expect(new Set(replies.map((reply) => reply?.message.transactionId.toString('hex'))).size).toBe(20);
    client.close();
  });

  it('retransmits until a lossy server answers the third copy', async () => {
    const server = await udp();
    let seen = 0;
    server.on('message', (packet, rinfo) => {
      seen++;
      const decoded = decodeStun(packet);
      if (seen < 3 || !decoded.ok) return; // drop the first two transmissions
      const answer = encodeStun(
        { method: STUN_METHOD_BINDING, class: 'success', transactionId: decoded.message.transactionId },
        { xorMappedAddress: { address: rinfo.address, port: rinfo.port } },
      );
      server.send(answer, rinfo.port, rinfo.address);
    });
    const client = new StunClient(await udp());
    const reply = await client.request({ address: '127.0.0.1', port: server.address().port }, {}, { rtoMs: 50, maxTransmissions: 4, timeoutMs: 2000 });
    expect(reply?.message.class).toBe('success');
    expect(seen).toBe(3);
    client.close();
  });

  it('gives null, not an exception, when nobody answers or the caller aborts', async () => {
    const silent = await udp();
    const client = new StunClient(await udp());
    const to = { address: '127.0.0.1', port: silent.address().port };
    expect(await client.request(to, {}, { rtoMs: 20, timeoutMs: 150 })).toBeNull();
    const controller = new AbortController();
    const pending = client.request(to, {}, { signal: controller.signal, timeoutMs: 60_000 });
    controller.abort();
    expect(await pending).toBeNull();
    client.close();
  });

  it('works on a connected socket', async () => {
    const reflector = await startStunReflector({ bind: '127.0.0.1', port: 0, altPort: 0 });
    reflectors.push(reflector);
    const socket = createSocket('udp4');
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.connect(reflector.sockets[0]!.port, '127.0.0.1', resolve));
    const client = new StunClient(socket);
    const reply = await client.request(null);
    expect(reply?.message.xorMappedAddress?.port).toBe(socket.address().port);
    client.close();
  });
});

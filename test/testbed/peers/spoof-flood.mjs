// spoof-flood: run inside a testbed namespace. argv[2] is JSON: { bind: ADDRESS, address, port, perSecond }
// Sends plain 20-byte STUN Binding requests from `bind` to address:port at about perSecond, as a
// spoofer sending "from" a client's public address would, until killed. Prints "flooding" once the
// socket is bound. Replies are read and dropped (the real spoofer never sees them).
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

const request = JSON.parse(process.argv[2]);
const socket = dgram.createSocket('udp4');
socket.on('message', () => {});
socket.on('error', () => {});
socket.bind(0, request.bind, () => {
  console.log('flooding');
  const everyMs = 10;
  const perTick = Math.max(1, Math.round((request.perSecond * everyMs) / 1000));
  setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      const packet = Buffer.alloc(20);
      packet.writeUInt16BE(0x0001, 0); // Binding request, no attributes
      packet.writeUInt32BE(0x2112a442, 4); // RFC 8489 magic cookie
      randomBytes(12).copy(packet, 8);
      socket.send(packet, request.port, request.address);
    }
  }, everyMs);
});

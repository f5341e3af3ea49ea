// spoof-flood: run inside a testbed namespace. argv[2] is JSON: { bind: ADDRESS, address, port, perSecond }
// Sends plain 20-byte STUN Binding requests from `bind` to address:port at perSecond on average, as a
// spoofer sending "from" a client's public address would, until killed. Each tick sends what the
// rate owes since the start, so a late timer on a busy machine does not lower the rate. Prints
// "flooding" once the socket is bound. Replies are read and dropped (a real spoofer never sees them).
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

const request = JSON.parse(process.argv[2]);
const socket = dgram.createSocket('udp4');
socket.on('message', () => {});
socket.on('error', () => {});
socket.bind(0, request.bind, () => {
  console.log('flooding');
  const started = performance.now();
  let sent = 0;
  setInterval(() => {
    const owed = Math.floor(((performance.now() - started) / 1000) * request.perSecond) - sent;
    for (let i = 0; i < owed; i++) {
      const packet = Buffer.alloc(20);
      packet.writeUInt16BE(0x0001, 0); // Binding request, no attributes
      packet.writeUInt32BE(0x2112a442, 4); // RFC 8489 magic cookie
      randomBytes(12).copy(packet, 8);
      socket.send(packet, request.port, request.address);
    }
    sent += Math.max(0, owed);
  }, 10);
});

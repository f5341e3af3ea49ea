// signed-flood: run inside a testbed namespace. argv[2] is JSON: { token, address, port, perSecond }
// Sends STUN Binding requests signed with the site key of `token` (protocol/probe-signature.ts), each
// with a fresh transaction id, at perSecond on average until killed: what a site's own agents would
// send if they spent more of the reflector than the site's budget. Prints "flooding" once bound.
import dgram from 'node:dgram';
import { probeKeyOfToken, stunProbeUsername } from '../../../protocol/dist/probe-signature.js';
import { STUN_METHOD_BINDING, encodeStun, newTransactionId } from '../../../protocol/dist/stun.js';

const request = JSON.parse(process.argv[2]);
const key = probeKeyOfToken(request.token);
const socket = dgram.createSocket('udp4');
socket.on('message', () => {});
socket.on('error', () => {});
socket.bind(0, () => {
  console.log('flooding');
  const started = performance.now();
  let sent = 0;
  setInterval(() => {
    const owed = Math.floor(((performance.now() - started) / 1000) * request.perSecond) - sent;
    for (let i = 0; i < owed; i++) {
      const packet = encodeStun(
        { method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId() },
        { username: stunProbeUsername(key) },
        { integrityKey: key.secret },
      );
      socket.send(packet, request.port, request.address);
    }
    sent += Math.max(0, owed);
  }, 10);
});

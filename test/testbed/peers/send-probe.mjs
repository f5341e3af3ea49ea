// send-probe: run inside a testbed namespace. argv[2] is JSON:
//   { transport: "udp"|"tcp", bind: ADDRESS, destinations: [{ address, port }], payload: STRING, waitMs }
// Sends the payload, with every "{localPort}" replaced by the local port, from ONE local socket (UDP)
// or one connection per destination (TCP), to each destination, and prints one JSON document:
//   { localPorts: [..], replies: [{ destination, from, to, payload }] }   (payload decoded from base64)
// Destinations that did not answer within waitMs are simply missing from replies.
import dgram from 'node:dgram';
import net from 'node:net';

const request = JSON.parse(process.argv[2]);
const replies = [];
const localPorts = [];
const render = (port) => request.payload.replaceAll('{localPort}', String(port));
const record = (destination, line) => {
  const echo = JSON.parse(line);
  replies.push({ destination, from: echo.from, to: echo.to, payload: Buffer.from(echo.payloadBase64, 'base64').toString('latin1') });
};
const finish = () => {
  console.log(JSON.stringify({ localPorts, replies }));
  process.exit(0);
};
setTimeout(finish, request.waitMs);

if (request.transport === 'udp') {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, request.bind, () => {
    const port = socket.address().port;
    localPorts.push(port);
    socket.on('message', (message, rinfo) => {
      record({ address: rinfo.address, port: rinfo.port }, message.toString('utf8').trim());
      if (replies.length === request.destinations.length) finish();
    });
    // ENETUNREACH and friends are outcomes here (the test asserts on the missing reply), not crashes.
    socket.on('error', () => {});
    for (const destination of request.destinations) socket.send(render(port), destination.port, destination.address, () => {});
  });
} else {
  for (const destination of request.destinations) {
    const socket = net.connect({ host: destination.address, port: destination.port, localAddress: request.bind }, () => {
      localPorts.push(socket.localPort);
      socket.write(render(socket.localPort));
    });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    socket.on('end', () => {
      if (text.trim() !== '') record(destination, text.trim());
      if (replies.length === request.destinations.length) finish();
    });
    socket.on('error', () => {});
  }
}

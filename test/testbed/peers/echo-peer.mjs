// echo-peer: run inside a testbed namespace. Listens on UDP and TCP at each ADDRESS:PORT argument and
// answers every message with one JSON line: who sent it (as seen here, i.e. after the NAT) and the
// exact bytes received, base64-encoded so that the reply carries no SIP-looking text for an ALG to
// rewrite on the way back. A message starting with "DELAY <ms>\n" is answered after <ms> ms.
// Prints "listening ADDRESS:PORT" once per socket, then "ready".
import dgram from 'node:dgram';
import net from 'node:net';

const endpoints = process.argv.slice(2).map((arg) => {
  const [address, port] = arg.split(':');
  return { address, port: Number(port) };
});

function answer(payload, from, to, send) {
  const delay = /^DELAY (\d+)\n/.exec(payload.toString('latin1'));
  const reply = `${JSON.stringify({ from, to, payloadBase64: payload.toString('base64') })}\n`;
  setTimeout(() => send(reply), delay ? Number(delay[1]) : 0);
}

let pending = endpoints.length * 2;
const bound = (what) => {
  console.log(`listening ${what}`);
  if (--pending === 0) console.log('ready');
};

for (const { address, port } of endpoints) {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (payload, rinfo) =>
    answer(payload, { address: rinfo.address, port: rinfo.port }, { address, port, transport: 'udp' }, (reply) =>
      udp.send(reply, rinfo.port, rinfo.address),
    ),
  );
  udp.bind(port, address, () => bound(`udp ${address}:${port}`));

  const tcp = net.createServer((socket) => {
    const chunks = [];
    // One request per connection, ended by the blank line after the headers (Content-Length: 0).
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const payload = Buffer.concat(chunks);
      if (!payload.includes('\r\n\r\n')) return;
      answer(payload, { address: socket.remoteAddress, port: socket.remotePort }, { address, port, transport: 'tcp' }, (reply) =>
        socket.end(reply),
      );
    });
    socket.on('error', () => {});
  });
  tcp.listen(port, address, () => bound(`tcp ${address}:${port}`));
}

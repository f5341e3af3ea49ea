// Forwards TCP connections on 127.0.0.1:PORT (inside a test namespace) to a unix socket file, so a
// process in the namespace can reach a service of the host namespace (the throw-away influxd).
// usage: node tcp-to-unix.mjs PORT SOCKET_PATH
import { createConnection, createServer } from 'node:net';

const [port, socketPath] = process.argv.slice(2);
const server = createServer((client) => {
  const upstream = createConnection(socketPath);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`forwarding 127.0.0.1:${port} to ${socketPath}\n`));

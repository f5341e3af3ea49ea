/**
 * bridgeUnixToTcp lets a process inside a testbed namespace reach a TCP service of the test's own
 * namespace (an SMTP or HTTP receiver on 127.0.0.1): it listens on a unix socket file, which every
 * namespace sees, and pipes each connection to 127.0.0.1:PORT. Inside the namespace,
 * test/testbed/peers/tcp-to-unix.mjs turns a TCP port into that socket file. Used by tests only.
 */
import { createConnection, createServer, type Server } from 'node:net';

export interface UnixBridge {
  path: string;
  close(): Promise<void>;
}

export async function bridgeUnixToTcp(path: string, port: number): Promise<UnixBridge> {
  const server: Server = createServer((client) => {
    const upstream = createConnection(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return { path, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

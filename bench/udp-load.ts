/**
 * A closed-loop UDP load generator: `concurrency` requests in flight per socket, each answer
 * triggers the next request. Returns answers per second seen by the client over `durationMs`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

export interface UdpLoadResult {
  sent: number;
  answered: number;
  seconds: number;
  answersPerSecond: number;
}

/** stunBindingRequest builds a 20-byte RFC 8489 Binding request with a fresh transaction id. */
export function stunBindingRequest(): Buffer {
  const message = Buffer.alloc(20);
  message.writeUInt16BE(0x0001, 0);
  message.writeUInt16BE(0, 2);
  message.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(message, 8);
  return message;
}

export async function runUdpLoad(options: {
  host: string;
  port: number;
  sockets: number;
  concurrency: number;
  durationMs: number;
  makeRequest: () => Buffer;
}): Promise<UdpLoadResult> {
  const sockets: Socket[] = [];
  let sent = 0;
  let answered = 0;
  let running = true;
  for (let i = 0; i < options.sockets; i++) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.connect(options.port, options.host);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const send = () => {
      sent++;
      socket.send(options.makeRequest());
    };
    socket.on('message', () => {
      answered++;
      if (running) send();
    });
    sockets.push(socket);
  }
  const started = performance.now();
  // Re-prime the window now and then: a lost datagram must not shrink the loop for good.
  const primer = setInterval(() => {
    if (sent - answered < options.sockets * options.concurrency / 2) {
      for (const socket of sockets) for (let k = 0; k < options.concurrency / 2; k++) { sent++; socket.send(options.makeRequest()); }
    }
  }, 50);
  for (const socket of sockets) for (let k = 0; k < options.concurrency; k++) { sent++; socket.send(options.makeRequest()); }
  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  running = false;
  clearInterval(primer);
  const seconds = (performance.now() - started) / 1000;
  const result = { sent, answered, seconds, answersPerSecond: answered / seconds };
  for (const socket of sockets) socket.close();
  return result;
}

/**
 * What the three STUN probes share: finding the reflector's address, opening UDP sockets of the
 * right family, and learning which local address the OS uses toward the reflector.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { TransportAddress } from '@algwatch/protocol/stun';

export const DEFAULT_STUN_PORT = 3478;

export interface StunServer {
  address: string;
  port: number;
  family: 4 | 6;
}

/** resolveStunServer looks the host up once, so every test of a probe talks to the same address. */
export async function resolveStunServer(host: string, port: number): Promise<StunServer> {
  const found = await lookup(host);
  return { address: found.address, port, family: found.family === 6 ? 6 : 4 };
}

/** openUdpSocket binds a socket on an ephemeral port of the wildcard address of `family`. */
export async function openUdpSocket(family: 4 | 6): Promise<Socket> {
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/**
 * localAddressToward asks the OS which source address it would use toward `server`: connect() on
 * a UDP socket only picks a route, it sends nothing.
 */
export async function localAddressToward(server: StunServer): Promise<string> {
  const socket = createSocket({ type: server.family === 6 ? 'udp6' : 'udp4' });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(server.port, server.address, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

export function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

export function sameTransportAddress(a: TransportAddress | undefined, b: TransportAddress | undefined): boolean {
  return a !== undefined && b !== undefined && a.address === b.address && a.port === b.port;
}

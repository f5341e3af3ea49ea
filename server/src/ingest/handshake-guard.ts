/**
 * guardHandshakes bounds the socket.io connections that have not proven who they are. The HTTP
 * port faces the internet, and before this any stranger could open engine.io connections and hold
 * them (issue 16: 2,000 held for 75+ s on the root namespace without a token). Now:
 * - the root namespace `/` admits nobody: agents use `/agent`, browsers their own namespace;
 * - a connection must be admitted by a namespace's authentication within the socket.io
 *   `connectTimeout` (HANDSHAKE_TIMEOUT_MS) or it is closed (socket.io does this);
 * - one address holds at most MAX_UNAUTHENTICATED_PER_ADDRESS connections not yet admitted; more
 *   are closed as they open. Admitted ones do not count, so a thousand agents behind one NAT
 *   reconnecting at once are refused only for the moment it takes each to log in.
 */
import type { Server, Socket } from 'socket.io';

export const MAX_UNAUTHENTICATED_PER_ADDRESS = 20;
/** The socket.io `connectTimeout` the server must be created with: time to join a namespace. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
export const ROOT_NAMESPACE_REFUSED = 'no such namespace: agents connect to /agent';

interface EngineConnection {
  readonly remoteAddress: string;
  close(): void;
  once(event: 'close', listener: () => void): void;
}

export interface HandshakeGuard {
  /** admitted marks a socket's connection as authenticated (call from a namespace middleware on success). */
  admitted(socket: Socket): void;
}

export function guardHandshakes(io: Server, options: { maxPerAddress?: number; onRefused?: (address: string) => void } = {}): HandshakeGuard {
  const maxPerAddress = options.maxPerAddress ?? MAX_UNAUTHENTICATED_PER_ADDRESS;
  const pending = new Map<string, number>();
  const counted = new WeakSet<EngineConnection>();
  const release = (connection: EngineConnection) => {
    if (!counted.has(connection)) return;
    counted.delete(connection);
    const left = (pending.get(connection.remoteAddress) ?? 1) - 1;
    if (left > 0) pending.set(connection.remoteAddress, left);
    else pending.delete(connection.remoteAddress);
  };

  io.engine.on('connection', (connection: EngineConnection) => {
    const address = connection.remoteAddress;
    const held = pending.get(address) ?? 0;
    if (held >= maxPerAddress) {
      options.onRefused?.(address);
      connection.close();
      return;
    }
    pending.set(address, held + 1);
    counted.add(connection);
    connection.once('close', () => release(connection));
  });
  io.of('/').use((_socket, next) => next(new Error(ROOT_NAMESPACE_REFUSED)));

  return { admitted: (socket) => release(socket.conn as unknown as EngineConnection) };
}

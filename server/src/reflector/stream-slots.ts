/**
 * StreamSlots are the SIP reflector's TCP and TLS connection slots, shared by both listeners. They
 * are what a stranger can try to use up (issue 16: 1,120 idle connections from 40 addresses filled
 * 1,024 slots, and every client's TCP/TLS check then read "blocked"), so a slot is held only by
 * doing SIP:
 * - a connection must send a SIP request within `firstRequestMs` of connecting (TLS handshake
 *   included), and another within `idleTimeoutMs` of its last one; CRLF keep-alive pings are
 *   answered but renew nothing, so pings alone cannot hold a slot forever;
 * - when every slot is taken, a new connection takes the slot of one that has not sent a request
 *   yet (the oldest such), else of the one whose last request is oldest. A real probe, which sends
 *   its request as soon as it connects, therefore always gets a slot and keeps it long enough;
 * - one source address holds at most `maxPerSource` slots.
 */
import type net from 'node:net';

export interface StreamSlotsOptions {
  maxConnections: number;
  maxPerSource: number;
  firstRequestMs: number;
  idleTimeoutMs: number;
  log: (event: string, fields: Record<string, unknown>) => void;
}

interface Slot {
  socket: net.Socket;
  source: string;
  timer: NodeJS.Timeout;
}

export class StreamSlots {
  // Two maps in order of last activity: the first entry of each is the one to evict first.
  private readonly silent = new Map<string, Slot>();
  private readonly active = new Map<string, Slot>();
  private readonly bySource = new Map<string, number>();

  constructor(private readonly options: StreamSlotsOptions) {}

  get size(): number {
    return this.silent.size + this.active.size;
  }

  /**
   * admit gives a newly accepted raw connection a slot, evicting another when all are taken.
   * Returns false (and destroys the socket) when its source already holds maxPerSource slots.
   */
  admit(socket: net.Socket, source: string): boolean {
    const held = this.bySource.get(source) ?? 0;
    if (held >= this.options.maxPerSource) {
      this.options.log('sip.source_connection_limit', { source, connections: held });
      socket.destroy();
      return false;
    }
    if (this.size >= this.options.maxConnections) this.evictOne();
    const key = keyOf(socket);
    const slot: Slot = { socket, source, timer: this.deadline(socket, this.options.firstRequestMs, 'sip.no_request') };
    this.silent.set(key, slot);
    this.bySource.set(source, held + 1);
    socket.once('close', () => this.release(key));
    return true;
  }

  /** requestArrived renews the slot of the connection (TCP, or the TLS socket over it) that sent a SIP request. */
  requestArrived(socket: net.Socket): void {
    const key = keyOf(socket);
    const slot = this.silent.get(key) ?? this.active.get(key);
    if (!slot) return;
    this.silent.delete(key);
    this.active.delete(key);
    clearTimeout(slot.timer);
    slot.timer = this.deadline(slot.socket, this.options.idleTimeoutMs, 'sip.idle_closed');
    this.active.set(key, slot);
  }

  /** closeAll destroys every connection holding a slot (the reflector is closing). */
  closeAll(): void {
    for (const slot of [...this.silent.values(), ...this.active.values()]) slot.socket.destroy();
  }

  private release(key: string): void {
    const slot = this.silent.get(key) ?? this.active.get(key);
    if (!slot) return;
    this.silent.delete(key);
    this.active.delete(key);
    clearTimeout(slot.timer);
    const left = (this.bySource.get(slot.source) ?? 1) - 1;
    if (left > 0) this.bySource.set(slot.source, left);
    else this.bySource.delete(slot.source);
  }

  private evictOne(): void {
    const [key, slot] = (this.silent.entries().next().value ?? this.active.entries().next().value) as [string, Slot];
    this.options.log('sip.slot_evicted', { source: slot.source, sentRequest: this.active.has(key), connections: this.size });
    this.release(key);
    slot.socket.destroy();
  }

  private deadline(socket: net.Socket, ms: number, event: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.options.log(event, { source: socket.remoteAddress, afterMs: ms });
      socket.destroy();
    }, ms);
    timer.unref();
    return timer;
  }
}

/** The connection's remote address and port: the same for a TLS socket and the TCP socket under it. */
function keyOf(socket: net.Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}

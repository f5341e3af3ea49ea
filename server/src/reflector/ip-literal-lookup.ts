/**
 * ipLiteralLookup is a dgram `lookup` for the reflectors' sockets, which only ever send to IP
 * literals (the source address of the datagram being answered): it answers synchronously, where
 * dns.lookup would answer an IP literal only on the next tick, so a reply leaves without a trip
 * through the event loop. Anything that is not an IP literal still goes to dns.lookup.
 */
import dns from 'node:dns';
import net from 'node:net';

export function ipLiteralLookup(
  hostname: string,
  options: dns.LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = net.isIP(hostname);
  if (family === 0) {
    dns.lookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
    return;
  }
  callback(null, hostname, family);
}

/**
 * stun-mapping: asks algwatch's STUN reflector (or any STUN server) which public address and port
 * the site's NAT gave this agent's UDP socket (RFC 8489 Binding), and compares it with the local one.
 *
 * Writes measurement `stun_mapping` (tags target, result = ok|no_answer|error; fields nat_present,
 * public_address, public_port, port_preserved, rtt_ms). No point is written without an answer:
 * there is nothing true to put in a field.
 * Example: `stun_mapping,target=reflector.example.net,result=ok nat_present=true,
 * public_address="203.0.113.9",public_port=41240i,port_preserved=true,rtt_ms=18.2`
 */
import { REFLECTOR_BUSY, STUN_BUSY_CODE } from '@algwatch/protocol/probe-signature';
import * as z from '@algwatch/protocol/zod';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import type { TransportAddress } from '@algwatch/protocol/stun';
import { StunClient } from '../stun-client.js';
import { targetLabel, type Probe, type ProbeTarget } from './probe.js';
import { DEFAULT_STUN_PORT, closeQuietly, resolveStunServer } from './stun-target.js';
import { createSocket } from 'node:dgram';

export const stunMappingOptionsSchema = z.object({
  /** Reflector port; the target's own port wins when it has one. */
  port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), DEFAULT_STUN_PORT),
  /** How long to keep retransmitting before "no answer". */
  requestTimeoutMs: z._default(z.int().check(z.minimum(100), z.maximum(30_000)), 2_000),
});
export type StunMappingOptions = z.infer<typeof stunMappingOptionsSchema>;

export interface StunMappingDetail {
  localAddress: string;
  localPort: number;
  publicAddress: string;
  publicPort: number;
  /** The public address or port differs from the local one. */
  natPresent: boolean;
  /** The NAT kept the local source port (many phones' NAT traversal works better when it does). */
  portPreserved: boolean;
  rttMs: number;
  /** RFC 5780 OTHER-ADDRESS: where the server would answer a change request; null when it has none. */
  otherAddress: TransportAddress | null;
}

/**
 * stunMappingProbe succeeds when the server answered with XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS);
 * no answer is success=false with detail null, never an exception.
 */
export const stunMappingProbe: Probe<StunMappingOptions, StunMappingDetail | null> = {
  name: 'stun-mapping',
  optionsSchema: stunMappingOptionsSchema,
  defaults: { port: DEFAULT_STUN_PORT, requestTimeoutMs: 2_000 },
  timeoutMs: 10_000,
  async run(ctx, target, options) {
    const server = await resolveStunServer(target.host, target.port ?? options.port);
    const socket = createSocket({ type: server.family === 6 ? 'udp6' : 'udp4' });
    const client = new StunClient(socket, target.probeKey);
    try {
      // connect() fixes the local address the OS uses toward the server, so address() is the
      // real source of the request (not 0.0.0.0).
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(server.port, server.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const local = socket.address();
      const reply = await client.request(null, {}, { signal: ctx.signal, timeoutMs: options.requestTimeoutMs });
      if (reply?.message.class === 'error' && reply.message.errorCode?.code === STUN_BUSY_CODE) {
        return { success: false, detail: null, points: [], reason: `${REFLECTOR_BUSY}: STUN ${STUN_BUSY_CODE} ${reply.message.errorCode.reason}` };
      }
      const mapped = reply?.message.xorMappedAddress ?? reply?.message.mappedAddress;
      if (!reply || reply.message.class !== 'success' || !mapped) {
        return { success: false, detail: null, points: [] };
      }
      const detail: StunMappingDetail = {
        localAddress: local.address,
        localPort: local.port,
        publicAddress: mapped.address,
        publicPort: mapped.port,
        natPresent: mapped.address !== local.address || mapped.port !== local.port,
        portPreserved: mapped.port === local.port,
        rttMs: round(reply.rttMs),
        otherAddress: reply.message.otherAddress ?? null,
      };
      return { success: true, detail, points: [stunMappingPoint(target, detail)] };
    } finally {
      client.close();
      closeQuietly(socket);
    }
  },
};

export function stunMappingPoint(target: ProbeTarget, detail: StunMappingDetail): MetricPoint {
  return {
    measurement: 'stun_mapping',
    tags: { target: targetLabel(target), result: 'ok' },
    fields: {
      nat_present: detail.natPresent,
      public_address: detail.publicAddress,
      public_port: detail.publicPort,
      port_preserved: detail.portPreserved,
      rtt_ms: detail.rttMs,
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

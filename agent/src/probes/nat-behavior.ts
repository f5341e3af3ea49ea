/**
 * nat-behavior: classifies the site NAT's mapping and filtering behaviour with the RFC 5780 tests
 * against a reflector that has a second address (it says so with OTHER-ADDRESS).
 *
 * Mapping (§4.3) on one socket: Binding to the primary address (I), to the alternate address on the
 * primary port (II) and on the alternate port (III); the public address is compared across them.
 * Filtering (§4.4) on a second, fresh socket (so the mapping tests opened no filter for it): a
 * Binding (I), then CHANGE-REQUEST change-IP-and-port (II) and change-port (III); which answers
 * get through tells the filtering. A filtered answer costs one request timeout (~1.5 s).
 *
 * Writes measurement `nat_behavior` (tags target, result = ok|no_answer|unsupported|error, mapping,
 * filtering; fields nat_present, mapping_code, filtering_code — 0 unknown, 1 endpoint-independent,
 * 2 address-dependent, 3 address-and-port-dependent).
 * Example: `nat_behavior,target=reflector.example.net,result=ok,mapping=endpoint-independent,
 * filtering=address-and-port-dependent nat_present=true,mapping_code=1i,filtering_code=3i`
 */
import type { Socket } from 'node:dgram';
import * as z from '@algwatch/protocol/zod';
import { natBehaviourCode, type MetricPoint, type NatBehaviour } from '@algwatch/protocol/measurements';
import type { TransportAddress } from '@algwatch/protocol/stun';
import { PADDED_REQUEST_BYTES, StunClient, type StunReply } from '../stun-client.js';
import { targetLabel, type Probe } from './probe.js';
import { DEFAULT_STUN_PORT, closeQuietly, localAddressToward, openUdpSocket, resolveStunServer, sameTransportAddress } from './stun-target.js';

export const natBehaviorOptionsSchema = z.object({
  port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), DEFAULT_STUN_PORT),
  /** How long one test waits (with retransmissions) before its answer counts as filtered. */
  requestTimeoutMs: z._default(z.int().check(z.minimum(100), z.maximum(30_000)), 1_500),
});
export type NatBehaviorOptions = z.infer<typeof natBehaviorOptionsSchema>;

export interface NatBehaviorDetail {
  mapping: NatBehaviour;
  filtering: NatBehaviour;
  natPresent: boolean;
  publicAddress: string;
  publicPort: number;
  /** Why mapping or filtering is unknown, in one line. */
  reason?: string;
}

/**
 * natBehaviorProbe succeeds when both behaviours were classified. No answer at all is
 * success=false with detail null; a server without OTHER-ADDRESS gives both `unknown` and a reason.
 */
export const natBehaviorProbe: Probe<NatBehaviorOptions, NatBehaviorDetail | null> = {
  name: 'nat-behavior',
  optionsSchema: natBehaviorOptionsSchema,
  defaults: { port: DEFAULT_STUN_PORT, requestTimeoutMs: 1_500 },
  timeoutMs: 15_000,
  async run(ctx, target, options) {
    const server = await resolveStunServer(target.host, target.port ?? options.port);
    const primary = { address: server.address, port: server.port };
    const localAddress = await localAddressToward(server);
    const sockets: Socket[] = [];
    const clients: StunClient[] = [];
    const open = async () => {
      const socket = await openUdpSocket(server.family);
      sockets.push(socket);
      const client = new StunClient(socket, target.probeKey);
      clients.push(client);
      return { client, local: { address: localAddress, port: socket.address().port } };
    };
    try {
      const ask = (client: StunClient, to: TransportAddress, changeRequest?: { changeIp: boolean; changePort: boolean }) =>
        client
          .request(to, changeRequest ? { changeRequest } : {}, {
            signal: ctx.signal,
            timeoutMs: options.requestTimeoutMs,
            ...(changeRequest ? { padToBytes: PADDED_REQUEST_BYTES.rfc5780 } : {}),
          })
          .then(successOnly);
      const [mappingSide, filteringSide] = await Promise.all([open(), open()]);
      const [mapping, filtering] = await Promise.all([
        testMapping(primary, (to) => ask(mappingSide.client, to)),
        testFiltering(primary, (to, change) => ask(filteringSide.client, to, change)),
      ]);
      const label = targetLabel(target);
      if (!mapping.first) {
        const point: MetricPoint = {
          measurement: 'nat_behavior',
          tags: { target: label, result: 'no_answer', mapping: 'unknown', filtering: 'unknown' },
          fields: { mapping_code: 0, filtering_code: 0 },
        };
        return { success: false, detail: null, points: [point] };
      }
      const mapped = mapping.first;
      const reason = [mapping.reason, filtering.reason].filter((text) => text !== undefined).join('; ');
      const detail: NatBehaviorDetail = {
        mapping: mapping.behaviour,
        filtering: filtering.behaviour,
        natPresent: !sameTransportAddress(mapped, mappingSide.local),
        publicAddress: mapped.address,
        publicPort: mapped.port,
        ...(reason ? { reason } : {}),
      };
      const classified = detail.mapping !== 'unknown' && detail.filtering !== 'unknown';
      const result = classified ? 'ok' : mapping.unsupported ? 'unsupported' : 'error';
      const point: MetricPoint = {
        measurement: 'nat_behavior',
        tags: { target: label, result, mapping: detail.mapping, filtering: detail.filtering },
        fields: { nat_present: detail.natPresent, mapping_code: natBehaviourCode(detail.mapping), filtering_code: natBehaviourCode(detail.filtering) },
      };
      return { success: classified, detail, points: [point] };
    } finally {
      for (const client of clients) client.close();
      for (const socket of sockets) closeQuietly(socket);
    }
  },
};

type Ask = (to: TransportAddress, change?: { changeIp: boolean; changePort: boolean }) => Promise<StunReply | null>;

interface MappingResult {
  /** XOR-MAPPED-ADDRESS of test I; undefined when the server never answered. */
  first?: TransportAddress;
  behaviour: NatBehaviour;
  unsupported?: boolean;
  reason?: string;
}

const NO_OTHER_ADDRESS = 'the STUN server sent no OTHER-ADDRESS (it has no second address), so RFC 5780 tests cannot run';

/** testMapping runs RFC 5780 §4.3: tests II and III go out together to save a round trip. */
async function testMapping(primary: TransportAddress, ask: Ask): Promise<MappingResult> {
  const first = await ask(primary);
  const x1 = first?.message.xorMappedAddress;
  if (!first || !x1) return { behaviour: 'unknown', reason: 'no answer from the STUN server' };
  const other = first.message.otherAddress;
  if (!other) return { first: x1, behaviour: 'unknown', unsupported: true, reason: NO_OTHER_ADDRESS };
  const [second, third] = await Promise.all([ask({ address: other.address, port: primary.port }), ask(other)]);
  const x2 = second?.message.xorMappedAddress;
  if (!x2) return { first: x1, behaviour: 'unknown', reason: `no answer from the alternate address ${other.address}:${primary.port}` };
  if (sameTransportAddress(x1, x2)) return { first: x1, behaviour: 'endpoint-independent' };
  const x3 = third?.message.xorMappedAddress;
  if (!x3) return { first: x1, behaviour: 'unknown', reason: `no answer from the alternate address ${other.address}:${other.port}` };
  return { first: x1, behaviour: sameTransportAddress(x2, x3) ? 'address-dependent' : 'address-and-port-dependent' };
}

/** testFiltering runs RFC 5780 §4.4; tests II and III go out together (each answer's source is checked). */
async function testFiltering(primary: TransportAddress, ask: Ask): Promise<{ behaviour: NatBehaviour; reason?: string }> {
  const first = await ask(primary);
  if (!first) return { behaviour: 'unknown', reason: 'no answer to the filtering test' };
  const other = first.message.otherAddress;
  if (!other) return { behaviour: 'unknown', reason: NO_OTHER_ADDRESS };
  const [changedBoth, changedPort] = await Promise.all([
    ask(primary, { changeIp: true, changePort: true }),
    ask(primary, { changeIp: false, changePort: true }),
  ]);
  // A server that ignores CHANGE-REQUEST answers from its primary address: that proves nothing.
  if (changedBoth && changedBoth.from.address !== other.address) {
    return { behaviour: 'unknown', reason: `the STUN server ignored CHANGE-REQUEST (answered from ${changedBoth.from.address})` };
  }
  if (changedBoth) return { behaviour: 'endpoint-independent' };
  if (changedPort && changedPort.from.port === primary.port) {
    return { behaviour: 'unknown', reason: 'the STUN server ignored CHANGE-REQUEST (answered from its primary port)' };
  }
  return { behaviour: changedPort ? 'address-dependent' : 'address-and-port-dependent' };
}

function successOnly(reply: StunReply | null): StunReply | null {
  return reply && reply.message.class === 'success' ? reply : null;
}

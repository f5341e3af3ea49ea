/**
 * An agent speaking the real wire protocol over a real socket.io connection, whose results the test
 * writes itself (to know exactly what the dashboard must show). Used by tests and benches only.
 */
import { randomUUID } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, type AgentToServerEvents, type ProbeResultMessage, type ServerToAgentEvents } from '@algwatch/protocol/events';
import type { SipRewrite } from '@algwatch/protocol/check-report';

export type AgentSocket = Socket<ServerToAgentEvents, AgentToServerEvents>;

/** connectAgent connects, says hello, and resolves once the server accepted it. */
export async function connectAgent(base: string, token: string, agentId = 'desk-1'): Promise<AgentSocket> {
  const socket: AgentSocket = connect(`${base}${AGENT_NAMESPACE}`, { auth: { token, agentId }, transports: ['websocket'], reconnection: false });
  const reply = await socket.timeout(10_000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0', hostname: agentId });
  if (!reply.ok) throw new Error(`hello refused: ${reply.error}`);
  return socket;
}

/** sendResults sends one batch and throws unless every result was accepted. */
export async function sendResults(agent: AgentSocket, results: ProbeResultMessage[]): Promise<void> {
  const ack = await agent.timeout(10_000).emitWithAck('results', { results });
  if (!ack.ok || ack.rejected) throw new Error(`results refused: ${JSON.stringify(ack)}`);
}

/** sipAlgResult is one transport's SIP ALG check with these rewrites (none: clean). */
export function sipAlgResult(transport: 'udp' | 'tcp' | 'tls', rewrites: SipRewrite[], startedAt = Date.now()): ProbeResultMessage {
  const detected = rewrites.length > 0;
  return {
    id: randomUUID(),
    probe: 'sip-alg',
    target: 'reflector',
    transport,
    startedAt,
    durationMs: 12,
    success: true,
    points: [
      {
        measurement: 'sip_alg',
        tags: { target: 'reflector', transport, result: detected ? 'detected' : 'clean' },
        fields: {
          alg_detected: detected,
          rewrites_outbound: rewrites.filter((r) => r.direction === 'outbound').length,
          rewrites_inbound: rewrites.filter((r) => r.direction === 'inbound').length,
          rewritten_fields: [...new Set(rewrites.map((r) => r.field))].join(','),
          rtt_ms: 4.2,
        },
      },
    ],
    detail: { status: detected ? 'detected' : 'clean', rttMs: 4.2, rewrites },
  };
}

/** stunResult is a STUN mapping result showing this public address. */
export function stunResult(publicAddress: string, publicPort: number, startedAt = Date.now()): ProbeResultMessage {
  return {
    id: randomUUID(),
    probe: 'stun-mapping',
    target: 'reflector',
    startedAt,
    durationMs: 3,
    success: true,
    points: [{ measurement: 'stun_mapping', tags: { target: 'reflector', result: 'success' }, fields: { nat_present: true, public_address: publicAddress, public_port: publicPort, port_preserved: true, rtt_ms: 2.5 } }],
    detail: null,
  };
}

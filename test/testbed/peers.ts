/**
 * Typed wrappers around the two tiny peer scripts in peers/ that the testbed self-tests run inside
 * the namespaces: echo-peer.mjs (wan side) reports the exact bytes and source it received, and
 * send-probe.mjs (lan side) sends a payload and collects those reports.
 */
import { fileURLToPath } from 'node:url';
import type { ManagedProcess } from '../helpers/process.js';
import type { NamespaceRole, Topology } from './topology.js';

const ECHO_PEER = fileURLToPath(new URL('./peers/echo-peer.mjs', import.meta.url));
const SEND_PROBE = fileURLToPath(new URL('./peers/send-probe.mjs', import.meta.url));

export interface Endpoint {
  address: string;
  port: number;
}

/** EchoReport is one message as the echo peer saw it: its source after the NAT and its bytes. */
export interface EchoReport {
  destination: Endpoint;
  from: Endpoint;
  to: Endpoint & { transport: 'udp' | 'tcp' };
  payload: string;
}

export interface SendResult {
  localPorts: number[];
  replies: EchoReport[];
}

export interface SendRequest {
  transport: 'udp' | 'tcp';
  from: NamespaceRole;
  bind: string;
  destinations: Endpoint[];
  /** `{localPort}` is replaced by the sending socket's port (as a SIP UA writes its Via/Contact). */
  payload: string;
  /** How long to wait for replies before reporting the ones that came. */
  waitMs: number;
}

/** startEchoPeer runs echo-peer.mjs (UDP + TCP) in a namespace and resolves once every socket is bound. */
export async function startEchoPeer(topology: Topology, role: NamespaceRole, endpoints: Endpoint[]): Promise<ManagedProcess> {
  const peer = topology.spawn(role, process.execPath, [ECHO_PEER, ...endpoints.map((e) => `${e.address}:${e.port}`)]);
  await peer.waitForOutput(/^ready$/);
  return peer;
}

/** sendProbe runs send-probe.mjs in a namespace and parses its report. */
export async function sendProbe(topology: Topology, request: SendRequest): Promise<SendResult> {
  const { from, ...script } = request;
  const result = await topology.exec(from, process.execPath, [SEND_PROBE, JSON.stringify(script)], { timeoutMs: request.waitMs + 10_000 });
  if (result.code !== 0) throw new Error(`send-probe failed (exit ${result.code ?? result.signal}): ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as SendResult;
}

/** sipOptions is a minimal SIP OPTIONS request (RFC 3261 §11) whose Via and Contact carry `host:{localPort}`. */
export function sipOptions(host: string, target: string, transport: 'UDP' | 'TCP'): string {
  return [
    `OPTIONS sip:reflector@${target} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${host}:{localPort};branch=z9hG4bK-testbed-1;rport`,
    'Max-Forwards: 70',
    `From: <sip:agent@${host}>;tag=testbed`,
    `To: <sip:reflector@${target}>`,
    `Call-ID: testbed-call@${host}`,
    'CSeq: 1 OPTIONS',
    `Contact: <sip:agent@${host}:{localPort}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/**
 * Well-behaved clients for the after-fuzz checks: one STUN Binding transaction (RFC 8489 §6.2.1,
 * retransmitted on silence), one algwatch probe request over SIP UDP, TCP or TLS, and /healthz.
 * Each resolves with what came back or rejects with one line saying what did not.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { get } from 'node:http';
import { STUN_METHOD_BINDING, decodeStun, encodeStun, newTransactionId, type StunMessage } from '@algwatch/protocol/stun';
import { SipStreamFramer, buildSipMessage, parseSipMessage, type SipMessage } from '@algwatch/protocol/sip';
import { SIP_PROBE_HEADER } from '@algwatch/protocol/sip-echo';

const ATTEMPTS = 4;
const ATTEMPT_TIMEOUT_MS = 750;

/** stunBindingRequest sends a Binding request from `localAddress` and resolves with the decoded answer. */
export async function stunBindingRequest(serverHost: string, port: number, localAddress: string): Promise<{ answer: StunMessage; localPort: number }> {
  const transactionId = newTransactionId();
  const request = encodeStun({ method: STUN_METHOD_BINDING, class: 'request', transactionId });
  const answer = await udpTransaction(serverHost, port, localAddress, request, (reply) => {
    const decoded = decodeStun(reply);
    return decoded.ok && decoded.message.transactionId.equals(transactionId) ? decoded.message : null;
  });
  return { answer: answer.value, localPort: answer.localPort };
}

/** sipProbeRequest is an algwatch probe request as the agent sends it (marker header included). */
export function sipProbeRequest(method: 'OPTIONS' | 'INVITE', transport: 'UDP' | 'TCP' | 'TLS', serverHost: string, local: string, callId: string): Buffer {
  const body = method === 'INVITE' ? 'v=0\r\no=algwatch 1 1 IN IP4 127.0.0.2\r\ns=algwatch\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n' : '';
  const headers: Array<[string, string]> = [
    ['Via', `SIP/2.0/${transport} ${local};branch=z9hG4bK${callId};rport`],
    ['Max-Forwards', '70'],
    ['From', `<sip:algwatch@${local}>;tag=${callId.slice(0, 8)}`],
    ['To', `<sip:echo@${serverHost}>`],
    ['Call-ID', callId],
    ['CSeq', `1 ${method}`],
    ['Contact', `<sip:algwatch@${local}>`],
    [SIP_PROBE_HEADER, '1'],
    ...(body ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
  ];
  return Buffer.from(buildSipMessage({ startLine: `${method} sip:echo@${serverHost} SIP/2.0`, headers, body }), 'latin1');
}

/** sipOverUdp sends `request` and resolves with the response carrying the same Call-ID. */
export async function sipOverUdp(serverHost: string, port: number, localAddress: string, request: Buffer, callId: string): Promise<SipMessage> {
  const answer = await udpTransaction(serverHost, port, localAddress, request, (reply) => {
    const message = parseSipMessage(reply);
    return message?.response && message.headers.some((header) => header.canonical === 'Call-ID' && header.value === callId) ? message : null;
  });
  return answer.value;
}

/** sipOverStream sends `request` over a fresh TCP or TLS connection and resolves with the first response. */
export function sipOverStream(transport: 'tcp' | 'tls', serverHost: string, port: number, localAddress: string, request: Buffer): Promise<SipMessage> {
  return new Promise((resolve, reject) => {
    const options = { host: serverHost, port, localAddress };
    const socket = transport === 'tls' ? tls.connect({ ...options, rejectUnauthorized: false }) : net.connect(options);
    const framer = new SipStreamFramer();
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`SIP over ${transport} to ${serverHost}:${port}: ${why}`));
    };
    const timer = setTimeout(() => fail('no response within 5 s'), 5_000);
    socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail('connection closed before a response'));
    socket.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) {
        if (item.kind !== 'message') continue;
        clearTimeout(timer);
        const message = parseSipMessage(item.bytes);
        socket.removeAllListeners('close');
        socket.destroy();
        if (message) resolve(message);
        else reject(new Error(`SIP over ${transport}: unparsable response`));
        return;
      }
    });
  });
}

/** healthz resolves with the status code and parsed body of GET /healthz. */
export function healthz(serverHost: string, port: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = get({ host: serverHost, port, path: '/healthz', timeout: 5_000 }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          reject(new Error(`/healthz answered ${response.statusCode} with non-JSON: ${text.slice(0, 100)}`));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('/healthz did not answer within 5 s')));
    request.on('error', reject);
  });
}

async function udpTransaction<T>(
  serverHost: string,
  port: number,
  localAddress: string,
  request: Buffer,
  match: (reply: Buffer) => T | null,
): Promise<{ value: T; localPort: number }> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, localAddress, () => resolve());
    });
    const localPort = socket.address().port;
    const value = await new Promise<T>((resolve, reject) => {
      let attempts = 0;
      let timer: NodeJS.Timeout | undefined;
      const attempt = () => {
        if (attempts++ === ATTEMPTS) return reject(new Error(`no answer from ${serverHost}:${port} to ${ATTEMPTS} attempts`));
        socket.send(request, port, serverHost);
        timer = setTimeout(attempt, ATTEMPT_TIMEOUT_MS);
      };
      socket.on('message', (reply) => {
        const matched = match(reply);
        if (matched === null) return;
        clearTimeout(timer);
        resolve(matched);
      });
      attempt();
    });
    return { value, localPort };
  } finally {
    socket.close();
  }
}

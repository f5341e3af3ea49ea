import dgram from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeRtpPacket, encodeRtpPacket } from '@algwatch/protocol/rtp';
import { decodeRtpSessionHeader, RTP_SESSION_HEADER, rtpSessionReportSchema, sdpAudioMedia } from '@algwatch/protocol/rtp-signalling';
import { parseSipMessage, sipHeaderValue } from '@algwatch/protocol/sip';
import { RtpSessions, type RtpSessionsOptions } from './rtp-sessions.js';
import type { SipSource } from './sip-reply.js';
import { MAX_PACKETS_PER_SESSION } from './rtp-session.js';

const opened: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0)) await thing.close();
});

async function sessions(options: Partial<RtpSessionsOptions> = {}): Promise<RtpSessions> {
  const started = await RtpSessions.start({ bind: '127.0.0.1', altAddress: '127.0.0.2', ...options });
  opened.push(started);
  return started;
}

/** A UDP socket that counts what reaches it. */
async function listener(address = '127.0.0.1'): Promise<{ socket: dgram.Socket; port: number; packets: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  const packets: Buffer[] = [];
  socket.on('message', (packet) => packets.push(packet));
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  opened.push({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  return { socket, port: socket.address().port, packets };
}

let calls = 0;
function invite(media: { address: string; port: number } | null, body?: string): Buffer {
  calls += 1;
  const sdp = body ?? ['v=0', `o=- 1 1 IN IP4 ${media!.address}`, 's=-', `c=IN IP4 ${media!.address}`, 't=0 0', `m=audio ${media!.port} RTP/AVP 0`, ''].join('\r\n');
  return Buffer.from([
    'INVITE sip:echo@127.0.0.1:5060 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK${calls}x;rport`,
    'From: <sip:algwatch@127.0.0.1:5062>;tag=a1',
    'To: <sip:echo@127.0.0.1:5060>',
    `Call-ID: call-${calls}`,
    'CSeq: 1 INVITE',
    'X-Algwatch-Rtp: 1',
    'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`,
    '',
    sdp,
  ].join('\r\n'), 'latin1');
}

function bye(inviteBytes: Buffer): Buffer {
  return Buffer.from(inviteBytes.toString('latin1').replace(/^INVITE/, 'BYE').replace('CSeq: 1 INVITE', 'CSeq: 2 BYE').replace(/Content-Type[^]*$/, 'Content-Length: 0\r\n\r\n'), 'latin1');
}

const from = (address = '127.0.0.1'): SipSource => ({ transport: 'udp', address, port: 5062 });

/** call sends an INVITE and returns the answer's media port and nonce. */
async function call(reflector: RtpSessions, media: { address: string; port: number }, source = from()): Promise<{ port: number; nonce: string; request: Buffer; status: number }> {
  const request = invite(media);
  const reply = await reflector.answer(request, source);
  const answer = parseSipMessage(reply!.text)!;
  const sdp = sdpAudioMedia(answer.body);
  return { port: sdp?.port ?? 0, nonce: sdp?.nonce ?? '', request, status: answer.response!.statusCode };
}

function rtp(nonce: string, sequence: number, payloadBytes = 160): Buffer {
  return encodeRtpPacket({ marker: false, sequence, timestamp: sequence * 160, ssrc: 7, kind: 'agent', nonce, sentAtMs: 1, heldMs: 0, payloadBytes });
}

async function sendFrom(socket: dgram.Socket, port: number, packets: Buffer[]): Promise<void> {
  for (const packet of packets) {
    await new Promise<void>((resolve) => socket.send(packet, port, '127.0.0.1', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the reflector\'s RTP sessions', () => {
  it('sends nothing until RTP carrying the answer\'s nonce arrives, then answers it', async () => {
    const reflector = await sessions();
    const agent = await listener();
    const { port, nonce } = await call(reflector, { address: '127.0.0.1', port: agent.port });
    expect(nonce).toMatch(/^[0-9a-f]{16}$/);
    await sendFrom(agent.socket, port, [...Array.from({ length: 10 }, (_, i) => rtp('ffffffffffffffff', i)), Buffer.from('junk'), Buffer.alloc(172)]);
    await pause(300);
    expect(agent.packets).toEqual([]);
    await sendFrom(agent.socket, port, Array.from({ length: 10 }, (_, i) => rtp(nonce, i)));
    await vi.waitFor(() => expect(agent.packets.length).toBeGreaterThan(0), { timeout: 3_000 });
    expect(decodeRtpPacket(agent.packets[0]!)?.nonce).toBe(nonce);
  });

  it('never sends an address more packets or bytes than it received from it, on both paths and the pinhole packets together', async () => {
    const reflector = await sessions();
    const agent = await listener();
    const sdpPort = await listener(); // the SDP names another port at the same address: two return paths
    const { port, nonce } = await call(reflector, { address: '127.0.0.1', port: sdpPort.port });
    const sent = Array.from({ length: 40 }, (_, i) => rtp(nonce, i, i % 2 ? 160 : 40));
    await sendFrom(agent.socket, port, sent);
    await pause(1_500);
    const back = [...agent.packets, ...sdpPort.packets];
    const kinds = new Set(back.map((packet) => decodeRtpPacket(packet)?.kind));
    expect(kinds).toContain('sdp');
    expect(kinds).toContain('symmetric');
    expect(back.length).toBeGreaterThan(20);
    expect(back.length).toBeLessThanOrEqual(sent.length);
    expect(back.reduce((sum, packet) => sum + packet.length, 0)).toBeLessThanOrEqual(sent.reduce((sum, packet) => sum + packet.length, 0));
  });

  it('sends nothing to an SDP address other than the one the INVITE came from', async () => {
    const reflector = await sessions();
    const agent = await listener();
    const stranger = await listener('127.0.0.5');
    const { port, nonce, request } = await call(reflector, { address: '127.0.0.5', port: stranger.port });
    await sendFrom(agent.socket, port, Array.from({ length: 30 }, (_, i) => rtp(nonce, i)));
    await vi.waitFor(() => expect(agent.packets.length).toBeGreaterThan(10), { timeout: 3_000 });
    expect(stranger.packets).toEqual([]);
    const report = await reflector.answer(bye(request), from());
    const header = decodeRtpSessionHeader(sipHeaderValue(parseSipMessage(report!.text)!, RTP_SESSION_HEADER), rtpSessionReportSchema);
    expect(header?.sdp).toEqual({ sent: 0, status: 'not-sent-address-mismatch', to: `127.0.0.5:${stranger.port}` });
    expect(header?.received).toBe(30);
  });

  it('gives RTP from a third address nothing, even with the right nonce, and counts only the proven source', async () => {
    const reflector = await sessions();
    const agent = await listener();
    const third = await listener();
    const { port, nonce, request } = await call(reflector, { address: '127.0.0.1', port: agent.port });
    await sendFrom(agent.socket, port, [rtp(nonce, 0)]);
    await sendFrom(third.socket, port, Array.from({ length: 20 }, (_, i) => rtp(nonce, i + 1)));
    await pause(500);
    expect(third.packets).toEqual([]);
    const report = await reflector.answer(bye(request), from());
    const header = decodeRtpSessionHeader(sipHeaderValue(parseSipMessage(report!.text)!, RTP_SESSION_HEADER), rtpSessionReportSchema);
    expect(header?.received).toBe(1);
  });

  it('caps proven sessions per source address and in total, answering 503 beyond them', async () => {
    const reflector = await sessions({ maxSessionsPerSource: 2, maxSessions: 3 });
    const agent = await listener();
    const statuses = [];
    for (const source of ['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.3', '127.0.0.4']) {
      const answered = await call(reflector, { address: source, port: agent.port }, from(source));
      statuses.push(answered.status);
      if (answered.status === 200) await sendFrom(agent.socket, answered.port, [rtp(answered.nonce, 0)]); // proven
      await pause(50);
    }
    expect(statuses).toEqual([200, 200, 503, 200, 503]);
    expect(reflector.activeSessions).toBe(3);
  });

  it('lets a real caller in past a flood of INVITEs that never prove (a spoofed source): the oldest unproven session gives way', async () => {
    const reflector = await sessions({ maxSessionsPerSource: 2, maxSessions: 3 });
    const agent = await listener();
    for (let i = 0; i < 10; i++) await call(reflector, { address: '127.0.0.1', port: 9 });
    expect(reflector.activeSessions).toBe(2);
    const real = await call(reflector, { address: '127.0.0.1', port: agent.port });
    expect(real.status).toBe(200);
    await sendFrom(agent.socket, real.port, [rtp(real.nonce, 0)]);
    await vi.waitFor(() => expect(agent.packets.length).toBeGreaterThan(0), { timeout: 3_000 });
    expect(reflector.activeSessions).toBeLessThanOrEqual(3);
  });

  it('ends every session on its own: unproven, gone quiet, or at its maximum length while RTP still flows', async () => {
    const reflector = await sessions({ limits: { proofTimeoutMs: 200, idleTimeoutMs: 300, maxSessionMs: 1_000 } });
    const agent = await listener();
    await call(reflector, { address: '127.0.0.1', port: agent.port }); // never sends RTP
    const quiet = await call(reflector, { address: '127.0.0.1', port: agent.port });
    await sendFrom(agent.socket, quiet.port, [rtp(quiet.nonce, 0)]);
    const chatty = await call(reflector, { address: '127.0.0.3', port: agent.port }, from('127.0.0.3'));
    let sequence = 0;
    const sender = setInterval(() => agent.socket.send(rtp(chatty.nonce, sequence++), chatty.port, '127.0.0.1'), 20);
    try {
      await vi.waitFor(() => expect(reflector.activeSessions).toBe(0), { timeout: 5_000, interval: 50 });
    } finally {
      clearInterval(sender);
    }
    // The session ended while its RTP still came: more was sent to its port after it closed.
    expect(sequence).toBeGreaterThan(0);
  });

  it('ends a session whose source sends more packets than any probe would', async () => {
    const ended: unknown[] = [];
    const reflector = await sessions({ log: (event, fields) => { if (event === 'rtp.session_ended') ended.push(fields.why); } });
    const agent = await listener();
    const flood = await call(reflector, { address: '127.0.0.1', port: agent.port });
    // Sent in bursts with pauses so the kernel's socket buffer drops none; stops once the session is gone.
    for (let sent = 0; sent < 3 * MAX_PACKETS_PER_SESSION && reflector.activeSessions > 0; sent += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => new Promise<void>((resolve) => agent.socket.send(rtp(flood.nonce, sent + i, 32), flood.port, '127.0.0.1', () => resolve()))));
      await pause(2);
    }
    expect(reflector.activeSessions).toBe(0);
    expect(ended).toEqual(['too many packets']);
  });

  it('answers malformed SDP with 488, a BYE for no call with 481, a retransmitted INVITE with the same answer, and the next probe after an abandoned one', async () => {
    const reflector = await sessions({ limits: { proofTimeoutMs: 200 } });
    const malformed = await reflector.answer(invite(null, 'v=0\r\nm=audio banana\r\n'), from());
    expect(parseSipMessage(malformed!.text)?.response?.statusCode).toBe(488);
    const stray = await reflector.answer(bye(invite({ address: '127.0.0.1', port: 9 })), from());
    expect(parseSipMessage(stray!.text)?.response?.statusCode).toBe(481);
    const request = invite({ address: '127.0.0.1', port: 9 });
    const first = await reflector.answer(request, from());
    expect((await reflector.answer(request, from()))?.text).toBe(first?.text);
    expect(reflector.activeSessions).toBe(1);
    await vi.waitFor(() => expect(reflector.activeSessions).toBe(0), { timeout: 3_000 }); // abandoned: never proven
    expect((await call(reflector, { address: '127.0.0.1', port: 9 })).status).toBe(200);
  });

  it('leaves other SIP requests to the SIP reflector', async () => {
    const reflector = await sessions();
    const options = Buffer.from(invite({ address: '127.0.0.1', port: 9 }).toString('latin1').replace('X-Algwatch-Rtp: 1\r\n', ''), 'latin1');
    expect(await reflector.answer(options, from())).toBeUndefined();
  });
});

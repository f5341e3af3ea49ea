/**
 * The reflector's side of the rtp-path probe: answers an INVITE marked `X-Algwatch-Rtp: 1` with its
 * own SDP (a media port of a new RtpSession and the session nonce) and a BYE with what the session
 * received and sent (protocol/src/rtp-signalling.ts). One 10 ms ticker paces every session's RTP.
 *
 * Bounds beyond each session's own (rtp-session.ts): at most maxSessionsPerSource sessions per
 * signalling address and maxSessions in all, and ended sessions' reports kept only lingerMs for a
 * retransmitted BYE. At a cap, the oldest session not yet proven gives way (INVITEs with a spoofed
 * source, which never prove, cannot lock a real caller out); when every one is proven, 503.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { buildSipMessage, parseSipMessage, sdpAddress, sipHeaderValue, sipHostPort, type SipMessage } from '@algwatch/protocol/sip';
import {
  encodeRtpSessionHeader, hostPort, RTP_NONCE_ATTRIBUTE, RTP_PROBE_HEADER, RTP_SESSION_HEADER, sdpAudioMedia,
} from '@algwatch/protocol/rtp-signalling';
import { responseDialogHeaders, type SipReply, type SipSource } from './sip-reply.js';
import { RtpSession, type PinholeSockets, type RtpSessionLimits } from './rtp-session.js';

export interface RtpSessionsOptions {
  /** Address the media sockets bind to (the reflector's --bind). */
  bind: string;
  /** The reflector's alternate address (--alt-address): pinhole packets come from it. */
  altAddress?: string;
  /** The address written in the SDP answer's c=; default the bind address, or the INVITE's Request-URI host when bind is a wildcard. */
  mediaAddress?: string;
  maxSessions?: number;
  maxSessionsPerSource?: number;
  limits?: Partial<RtpSessionLimits>;
  /** How long an ended session's report stays for a retransmitted BYE (default 10 s). */
  lingerMs?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export const DEFAULT_MAX_RTP_SESSIONS = 500;
export const DEFAULT_MAX_RTP_SESSIONS_PER_SOURCE = 4;
export const DEFAULT_RTP_LIMITS: RtpSessionLimits = { maxSessionMs: 40_000, proofTimeoutMs: 5_000, idleTimeoutMs: 3_000, pinholePackets: 3 };
const TICK_MS = 10;
const SERVER_HEADER = 'algwatch-reflector';

interface Entry {
  session: RtpSession | null;
  source: string;
  /** The 200 OK, resent as is for a retransmitted INVITE. */
  answer: string | null;
  endedAt: number | null;
}

export class RtpSessions {
  private readonly entries = new Map<string, Entry>();
  private readonly perSource = new Map<string, number>();
  private active = 0;
  private ticker: NodeJS.Timeout | undefined;
  private readonly limits: RtpSessionLimits;
  private readonly log: NonNullable<RtpSessionsOptions['log']>;

  private constructor(private readonly options: RtpSessionsOptions, private readonly pinholes: PinholeSockets) {
    this.limits = { ...DEFAULT_RTP_LIMITS, ...options.limits };
    this.log = options.log ?? (() => {});
  }

  /** start binds the shared pinhole sockets (another port on bind, one on altAddress when given). */
  static async start(options: RtpSessionsOptions): Promise<RtpSessions> {
    const otherPort = await bindUdp(options.bind);
    const altAddress = options.altAddress ? await bindUdp(options.altAddress) : null;
    return new RtpSessions(options, { otherPort, altAddress });
  }

  get activeSessions(): number {
    return this.active;
  }

  /**
   * answer handles a SIP request if it is the rtp-path probe's (INVITE or BYE with X-Algwatch-Rtp);
   * undefined when it is not (the caller answers it as usual), null when it gets no answer.
   */
  async answer(requestBytes: Uint8Array, source: SipSource): Promise<SipReply | null | undefined> {
    const request = parseSipMessage(requestBytes);
    if (!request?.request || sipHeaderValue(request, RTP_PROBE_HEADER)?.trim() !== '1') return undefined;
    const method = request.request.method;
    if (method !== 'INVITE' && method !== 'BYE') return method === 'ACK' ? null : undefined;
    const dialog = responseDialogHeaders(request, source);
    const callId = sipHeaderValue(request, 'Call-ID');
    if (!dialog || callId === undefined) return null;
    const key = `${source.address}|${callId}`;
    return method === 'INVITE' ? this.invite(request, source, dialog, key) : this.bye(dialog, key);
  }

  private async invite(request: SipMessage, source: SipSource, dialog: Array<[string, string]>, key: string): Promise<SipReply | null> {
    const known = this.entries.get(key);
    if (known) return known.answer ? { kind: 'plain', text: known.answer } : null; // a retransmission
    const offer = request.headers.some((header) => header.canonical === 'Content-Type' && /application\/sdp/i.test(header.value)) ? sdpAudioMedia(request.body) : null;
    if (!offer) return { kind: 'plain', text: status(dialog, '488 Not Acceptable Here') };
    const perSourceFull = () => (this.perSource.get(source.address) ?? 0) >= (this.options.maxSessionsPerSource ?? DEFAULT_MAX_RTP_SESSIONS_PER_SOURCE);
    const totalFull = () => this.active >= (this.options.maxSessions ?? DEFAULT_MAX_RTP_SESSIONS);
    if (perSourceFull()) this.evictUnproven((entry) => entry.source === source.address);
    if (!perSourceFull() && totalFull()) this.evictUnproven(() => true);
    if (perSourceFull() || totalFull()) {
      this.log('rtp.session_refused', { source: source.address, fromSource: this.perSource.get(source.address) ?? 0, active: this.active });
      return { kind: 'plain', text: status(dialog, '503 Service Unavailable', [['Retry-After', '30']]) };
    }
    const held = this.perSource.get(source.address) ?? 0;
    const entry: Entry = { session: null, source: source.address, answer: null, endedAt: null };
    this.entries.set(key, entry);
    this.perSource.set(source.address, held + 1);
    this.active += 1;
    const sdpTarget = net.isIP(offer.address) ? { address: offer.address, port: offer.port } : null;
    try {
      entry.session = await RtpSession.open(this.options.bind, { address: source.address, port: source.port }, sdpTarget, this.limits, this.pinholes, (_, why) => this.ended(key, entry, why));
    } catch (err) {
      this.ended(key, entry, `cannot open a media socket: ${(err as Error).message}`);
      return { kind: 'plain', text: status(dialog, '503 Service Unavailable') };
    }
    this.startTicker();
    const mediaAddress = this.mediaAddressFor(request);
    const body = [
      'v=0',
      `o=algwatch ${entry.session.port} 1 ${sdpAddress(mediaAddress)}`,
      's=algwatch',
      `c=${sdpAddress(mediaAddress)}`,
      't=0 0',
      `m=audio ${entry.session.port} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      'a=ptime:20',
      `a=${RTP_NONCE_ATTRIBUTE}:${entry.session.nonce}`,
      'a=sendrecv',
      '',
    ].join('\r\n');
    const seen = encodeRtpSessionHeader({ v: 1, sdpSeen: hostPort(offer.address, offer.port), signalling: hostPort(source.address, source.port) });
    entry.answer = buildSipMessage({
      startLine: 'SIP/2.0 200 OK',
      headers: [
        ...dialog,
        ['Contact', `<sip:algwatch@${sipHostPort(mediaAddress, 5060)}>`],
        ['Server', SERVER_HEADER],
        [RTP_SESSION_HEADER, seen],
        ['Content-Type', 'application/sdp'],
        ['Content-Length', String(body.length)],
      ],
      body,
    });
    this.log('rtp.session_started', { source: source.address, port: entry.session.port, sdp: hostPort(offer.address, offer.port) });
    return { kind: 'plain', text: entry.answer };
  }

  private bye(dialog: Array<[string, string]>, key: string): SipReply {
    const entry = this.entries.get(key);
    if (!entry?.session) return { kind: 'plain', text: status(dialog, '481 Call/Transaction Does Not Exist') };
    entry.session.end('bye');
    return { kind: 'plain', text: status(dialog, '200 OK', [[RTP_SESSION_HEADER, encodeRtpSessionHeader(entry.session.report())]]) };
  }

  /** evictUnproven ends the oldest running session that matches and has not been proven yet. */
  private evictUnproven(matches: (entry: Entry) => boolean): void {
    for (const entry of this.entries.values()) {
      if (entry.endedAt === null && entry.session && !entry.session.isProven && matches(entry)) {
        entry.session.end('evicted: a cap was reached and it was not proven');
        return;
      }
    }
  }

  private ended(key: string, entry: Entry, why: string): void {
    if (entry.endedAt !== null) return;
    entry.endedAt = performance.now();
    this.active -= 1;
    const left = (this.perSource.get(entry.source) ?? 1) - 1;
    if (left > 0) this.perSource.set(entry.source, left);
    else this.perSource.delete(entry.source);
    this.log('rtp.session_ended', { source: entry.source, why, ...(entry.session ? { received: entry.session.report().received } : {}) });
    const timer = setTimeout(() => { if (this.entries.get(key) === entry) this.entries.delete(key); }, this.options.lingerMs ?? 10_000);
    timer.unref();
  }

  private startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => {
      const now = performance.now();
      for (const entry of this.entries.values()) if (entry.endedAt === null) entry.session?.tick(now);
      if (this.active === 0) {
        clearInterval(this.ticker);
        this.ticker = undefined;
      }
    }, TICK_MS);
  }

  private mediaAddressFor(request: SipMessage): string {
    if (this.options.mediaAddress) return this.options.mediaAddress;
    if (this.options.bind !== '0.0.0.0' && this.options.bind !== '::') return this.options.bind;
    const host = /^sips?:(?:[^@]*@)?\[?([0-9A-Fa-f.:]+?)\]?(?::\d+)?(?:;|$)/.exec(request.request?.uri ?? '')?.[1];
    return host && net.isIP(host) ? host : this.options.bind;
  }

  /** close ends every session and releases the sockets. */
  async close(): Promise<void> {
    for (const entry of this.entries.values()) entry.session?.end('reflector closing');
    clearInterval(this.ticker);
    this.ticker = undefined;
    for (const socket of [this.pinholes.otherPort, this.pinholes.altAddress]) {
      if (socket) await new Promise<void>((resolve) => { try { socket.close(() => resolve()); } catch { resolve(); } });
    }
  }
}

function status(dialog: Array<[string, string]>, line: string, extra: Array<[string, string]> = []): string {
  return buildSipMessage({ startLine: `SIP/2.0 ${line}`, headers: [...dialog, ['Server', SERVER_HEADER], ...extra, ['Content-Length', '0']] });
}

function bindUdp(address: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
  socket.on('error', () => {});
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => { socket.off('error', reject); resolve(socket); });
  });
}

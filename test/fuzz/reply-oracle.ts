/**
 * The fuzz oracle: which datagrams the reflector may answer, and whether each reply it sent was
 * deserved. "Answerable" is judged from the exact bytes sent, with the protocol package's own
 * decoders and the reflector's documented contract (server/src/reflector/*.ts headers):
 * - STUN: a datagram that `decodeStun` accepts as a Binding request (RFC 8489 §6.3.1); it may get
 *   a success or a 420 error (RFC 8489 §7.3.1, RFC 5780 §6.1).
 * - SIP: a request `parseSipMessage` accepts, not ACK (RFC 3261 §17.2.1), with a parsable top Via
 *   and From, To, Call-ID and CSeq (RFC 3261 §8.1.1), and either the probe marker or OPTIONS.
 * A reply is matched back to its request by transaction id (STUN) or Call-ID + CSeq + branch (SIP):
 * a reply that matches no answerable datagram is a violation, and so is one larger than the
 * reflectors' amplification caps.
 */
import { STUN_METHOD_BINDING, decodeStun } from '@algwatch/protocol/stun';
import { parseSipMessage, parseVia, sipHeaderValue, sipHeaderValues, splitHeaderList, viaParam, type SipMessage } from '@algwatch/protocol/sip';
import { SIP_PROBE_HEADER } from '@algwatch/protocol/sip-echo';

/** Which reflector a datagram was sent to; it decides which protocol's rules apply. */
export type ReflectorProtocol = 'stun' | 'sip';

/** isAnswerableStun is true for bytes the STUN reflector may answer. */
export function isAnswerableStun(bytes: Uint8Array): boolean {
  const decoded = decodeStun(bytes);
  return decoded.ok && decoded.message.class === 'request' && decoded.message.method === STUN_METHOD_BINDING;
}

/** isAnswerableSip is true for bytes the SIP reflector may answer over UDP. */
export function isAnswerableSip(bytes: Uint8Array): boolean {
  const message = parseSipMessage(bytes);
  if (!message?.request || message.request.method === 'ACK' || sipTransactionKey(message) === null) return false;
  for (const name of ['From', 'To', 'Call-ID', 'CSeq']) if (sipHeaderValue(message, name) === undefined) return false;
  return sipHeaderValue(message, SIP_PROBE_HEADER)?.trim() === '1' || message.request.method === 'OPTIONS';
}

/** sipTransactionKey is Call-ID, CSeq and top-Via branch: what a response copies from its request (RFC 3261 §8.2.6.2). */
export function sipTransactionKey(message: SipMessage): string | null {
  const firstVia = sipHeaderValues(message, 'Via')[0];
  const top = firstVia === undefined ? undefined : splitHeaderList(firstVia)[0];
  const via = top === undefined ? null : parseVia(top);
  if (!via) return null;
  return `${sipHeaderValue(message, 'Call-ID') ?? ''}\n${sipHeaderValue(message, 'CSeq') ?? ''}\n${String(viaParam(via, 'branch'))}`;
}

interface SentDatagram {
  index: number;
  answerable: boolean;
  bytes: number;
  replies: number;
}

/** ReplyVerdict says whether one reply was deserved; `violation` explains one that was not. */
export type ReplyVerdict = { ok: true } | { ok: false; violation: string; index?: number };

/**
 * ReplyLedger records every fuzz datagram as it is sent and judges every reply as it arrives.
 * Keys are unique per datagram (the generators draw fresh ids), so a reply to garbage cannot hide
 * behind a valid request with the same id.
 */
export class ReplyLedger {
  private readonly stun = new Map<string, SentDatagram>();
  private readonly sip = new Map<string, SentDatagram>();
  /** Call-ID as generated → datagram index, to name the culprit when garbage is answered. */
  private readonly sipCallIds = new Map<string, number>();
  answerable = { stun: 0, sip: 0 };
  replies = { stun: 0, sip: 0 };
  keyCollisions = 0;

  /** record notes a datagram about to be sent to `protocol`'s port; returns whether it is answerable. */
  record(protocol: ReflectorProtocol, bytes: Buffer, index: number, generatedCallId?: string): boolean {
    if (generatedCallId !== undefined) this.sipCallIds.set(generatedCallId, index);
    if (protocol === 'stun') {
      const answerable = isAnswerableStun(bytes);
      if (bytes.length >= 20) this.remember(this.stun, bytes.subarray(8, 20).toString('hex'), { index, answerable, bytes: bytes.length, replies: 0 });
      if (answerable) this.answerable.stun++;
      return answerable;
    }
    const answerable = isAnswerableSip(bytes);
    const message = answerable ? parseSipMessage(bytes) : null;
    const key = message ? sipTransactionKey(message) : null;
    if (key !== null) this.remember(this.sip, key, { index, answerable, bytes: bytes.length, replies: 0 });
    if (answerable) this.answerable.sip++;
    return answerable;
  }

  /** judge checks one reply that came from `protocol`'s port. */
  judge(protocol: ReflectorProtocol, reply: Buffer): ReplyVerdict {
    return protocol === 'stun' ? this.judgeStun(reply) : this.judgeSip(reply);
  }

  private judgeStun(reply: Buffer): ReplyVerdict {
    this.replies.stun++;
    const decoded = decodeStun(reply);
    if (!decoded.ok) return { ok: false, violation: `STUN reply the codec rejects (${decoded.error}): ${reply.toString('hex').slice(0, 80)}` };
    const { message } = decoded;
    const key = message.transactionId.toString('hex');
    const sent = this.stun.get(key);
    if (!sent) return { ok: false, violation: `STUN reply for transaction ${key}, which was never sent` };
    const base = { index: sent.index };
    if (!sent.answerable) return { ok: false, violation: `STUN reply to malformed datagram #${sent.index}`, ...base };
    if (message.method !== STUN_METHOD_BINDING || (message.class !== 'success' && message.class !== 'error')) {
      return { ok: false, violation: `STUN reply to #${sent.index} is a ${message.class} of method ${message.method}`, ...base };
    }
    // stun-server.ts: a response never exceeds max(3 × request, 128 bytes).
    if (reply.length > Math.max(3 * sent.bytes, 128)) return { ok: false, violation: `STUN reply of ${reply.length} bytes to a ${sent.bytes}-byte request #${sent.index}`, ...base };
    if (++sent.replies > 1) return { ok: false, violation: `STUN request #${sent.index} answered ${sent.replies} times`, ...base };
    return { ok: true };
  }

  private judgeSip(reply: Buffer): ReplyVerdict {
    this.replies.sip++;
    const message = parseSipMessage(reply);
    if (!message?.response) return { ok: false, violation: `SIP reply that is not a SIP response: ${JSON.stringify(reply.toString('latin1').slice(0, 120))}` };
    const key = sipTransactionKey(message);
    const sent = key === null ? undefined : this.sip.get(key);
    if (!sent) {
      const culprit = this.sipCallIds.get(sipHeaderValue(message, 'Call-ID') ?? '');
      return {
        ok: false,
        violation: `SIP ${message.startLine} to a request that was not answerable (Call-ID ${JSON.stringify(sipHeaderValue(message, 'Call-ID'))})`,
        ...(culprit === undefined ? {} : { index: culprit }),
      };
    }
    if (reply.length > 3 * sent.bytes) return { ok: false, violation: `SIP reply of ${reply.length} bytes to a ${sent.bytes}-byte request #${sent.index}`, index: sent.index };
    if (++sent.replies > 1) return { ok: false, violation: `SIP request #${sent.index} answered ${sent.replies} times`, index: sent.index };
    return { ok: true };
  }

  private remember(map: Map<string, SentDatagram>, key: string, datagram: SentDatagram): void {
    // An answerable datagram shares its key with another only if a mutation recreated a fresh
    // 96-bit id: counted (the test expects none). Garbage sharing garbage's key (text sent to the
    // STUN port) proves nothing either way.
    const earlier = map.get(key);
    if (earlier && (earlier.answerable || datagram.answerable)) this.keyCollisions++;
    map.set(key, datagram);
  }
}

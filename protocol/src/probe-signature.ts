/**
 * Signed reflector probes. The reflector pays every answer from a budget; unsigned probes draw on
 * their source address's, which a spoofer can empty (issue 16: spoofed UDP from a client's public
 * address turned its `check` into "TCP and TLS blocked"). An agent signs its probes with a key of
 * its site, and signed probes draw on that site's own budget, out of a spoofer's reach.
 *
 * The key comes from the agent token, but the server keeps only SHA-256(token): both sides derive
 * it from that hash. key = HMAC-SHA256(sha256(token), "algwatch reflector probe key"); its public
 * name (STUN USERNAME, SIP key=) is the first 12 bytes of HMAC-SHA256(key, "algwatch reflector
 * probe key id"), base64url. A signature carries a time (unix seconds) and is honoured only within
 * PROBE_SIGNATURE_WINDOW_S of the reflector's clock; each signed probe counts once (the reflector
 * remembers what it saw), so a replayed probe draws on the address budget like an unsigned one.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** ProbeKey is one site's signing key (32 bytes) and its public id. */
export interface ProbeKey {
  id: string;
  secret: Buffer;
}

/** A signature whose time is further than this from the reflector's clock is not honoured. */
export const PROBE_SIGNATURE_WINDOW_S = 120;
/** The STUN USERNAME and SIP header of a signed probe start with this version tag. */
export const PROBE_SIGNATURE_VERSION = 'aw1';
/** The SIP header carrying the signature (no ALG rewrites an unknown header). */
export const SIP_SIGNATURE_HEADER = 'X-Algwatch-Signature';
/**
 * The STUN error code of a "busy" answer: a signed probe whose site budget is empty (RFC 8656 §18's
 * 508 Insufficient Capacity, borrowed for Binding). Never larger than the request.
 */
export const STUN_BUSY_CODE = 508;
/** What a probe says when the reflector answered "busy" (STUN 508, SIP 503 to a signed request): never "blocked". */
export const REFLECTOR_BUSY = 'reflector busy';
export const STUN_BUSY_REASON = 'Busy';

/** probeKeyOfTokenHash derives the site's probe key from the hex SHA-256 of an agent token (the server side). */
export function probeKeyOfTokenHash(tokenHashHex: string): ProbeKey {
  const secret = createHmac('sha256', Buffer.from(tokenHashHex, 'hex')).update('algwatch reflector probe key').digest();
  const id = createHmac('sha256', secret).update('algwatch reflector probe key id').digest().subarray(0, 12).toString('base64url');
  return { id, secret };
}

/** probeKeyOfToken derives the same key from the token itself (the agent side). */
export function probeKeyOfToken(token: string): ProbeKey {
  return probeKeyOfTokenHash(createHash('sha256').update(token, 'utf8').digest('hex'));
}

/** stunProbeUsername is the USERNAME of a signed STUN probe: "aw1:<key id>:<unix seconds>". */
export function stunProbeUsername(key: ProbeKey, nowMs = Date.now()): string {
  return `${PROBE_SIGNATURE_VERSION}:${key.id}:${Math.floor(nowMs / 1000)}`;
}

/** ProbeClaim is what a signature says: which key, and when (unix seconds). */
export interface ProbeClaim {
  keyId: string;
  timeS: number;
}

/** parseStunProbeUsername reads "aw1:<key id>:<unix seconds>"; null for any other USERNAME. */
export function parseStunProbeUsername(username: string): ProbeClaim | null {
  const match = /^aw1:([A-Za-z0-9_-]{16}):(\d{1,12})$/.exec(username);
  return match ? { keyId: match[1]!, timeS: Number(match[2]) } : null;
}

/** sipSignatureValue returns the X-Algwatch-Signature value for one SIP request (a fresh nonce each call). */
export function sipSignatureValue(key: ProbeKey, nowMs = Date.now(), nonce = randomBytes(12).toString('base64url')): string {
  const timeS = Math.floor(nowMs / 1000);
  return `${PROBE_SIGNATURE_VERSION} key=${key.id} ts=${timeS} nonce=${nonce} mac=${sipMac(key.secret, key.id, timeS, nonce)}`;
}

/** SipSignatureClaim is a parsed X-Algwatch-Signature; the reflector verifies it with sipSignatureValid. */
export interface SipSignatureClaim extends ProbeClaim {
  nonce: string;
  mac: string;
}

/** parseSipSignatureValue reads an X-Algwatch-Signature value; null when it is not one. */
export function parseSipSignatureValue(value: string): SipSignatureClaim | null {
  const match = /^aw1 key=([A-Za-z0-9_-]{16}) ts=(\d{1,12}) nonce=([A-Za-z0-9_-]{8,32}) mac=([A-Za-z0-9_-]{22})$/.exec(value.trim());
  return match ? { keyId: match[1]!, timeS: Number(match[2]), nonce: match[3]!, mac: match[4]! } : null;
}

/** sipSignatureValid says whether the claim's mac is the key's (time is checked by the caller). */
export function sipSignatureValid(claim: SipSignatureClaim, secret: Buffer): boolean {
  const expected = Buffer.from(sipMac(secret, claim.keyId, claim.timeS, claim.nonce));
  const actual = Buffer.from(claim.mac);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

// The SIP signature covers the key id, time and a nonce, not the message: an ALG rewrites Via,
// Contact and SDP on the way, which is exactly what the probe is there to see.
function sipMac(secret: Buffer, keyId: string, timeS: number, nonce: string): string {
  return createHmac('sha256', secret).update(`${PROBE_SIGNATURE_VERSION} ${keyId} ${timeS} ${nonce}`).digest().subarray(0, 16).toString('base64url');
}

/** probeTimeFresh says whether a signature's time is within the window of `nowMs`. */
export function probeTimeFresh(timeS: number, nowMs = Date.now()): boolean {
  return Math.abs(nowMs / 1000 - timeS) <= PROBE_SIGNATURE_WINDOW_S;
}

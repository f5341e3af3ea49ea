/**
 * SignedProbes decides who pays for a reflector answer. An unsigned probe pays from its source
 * address's budget (SourceRateLimiter), which anyone can empty by spoofing that address. A probe
 * signed with a site's probe key (protocol/probe-signature.ts), fresh and not seen before, pays from
 * its site's own budget instead, which only a holder of one of the site's tokens can spend.
 *
 * Anything that is not a valid, fresh, first-seen signature is treated as unsigned: a replay, a
 * stale clock, an unknown or revoked key all fall back to today's address budget, never to a refusal.
 */
import {
  PROBE_SIGNATURE_WINDOW_S,
  parseSipSignatureValue,
  parseStunProbeUsername,
  probeKeyOfTokenHash,
  probeTimeFresh,
  sipSignatureValid,
} from '@algwatch/protocol/probe-signature';
import { stunIntegrityValid, type StunMessage } from '@algwatch/protocol/stun';
import { SourceRateLimiter } from './rate-limit.js';

/** SiteTokenHash is one active agent token of a site, as the relational store keeps it. */
export interface SiteTokenHash {
  siteId: string;
  tokenHash: string;
}

export interface SignedProbesOptions {
  /** Each site's budget: answers per second, and the burst it may spend at once. */
  ratePerSecond: number;
  burst: number;
  /** Signatures remembered to refuse replays (the oldest is forgotten first). Default 200,000. */
  maxRemembered?: number;
}

/** The defaults: a site's budget matches one address's (server.ts), as a site's agents are usually one. */
export const DEFAULT_SITE_PROBE_BUDGET = { ratePerSecond: 200, burst: 2000 } as const;

/** SignedProbeVerdict says whose budget pays: the site's (signed) or the source address's (not). */
export type SignedProbeVerdict = { signed: false } | { signed: true; siteId: string };

export class SignedProbes {
  private keys = new Map<string, { siteId: string; secret: Buffer }>();
  /** key id + transaction id or nonce -> when it may be forgotten (ms); insertion order = age order. */
  private readonly remembered = new Map<string, number>();
  private readonly budgets: SourceRateLimiter;
  private readonly maxRemembered: number;

  constructor(options: SignedProbesOptions = DEFAULT_SITE_PROBE_BUDGET) {
    this.budgets = new SourceRateLimiter({ ratePerSecond: options.ratePerSecond, burst: options.burst, maxSources: 100_000 });
    this.maxRemembered = options.maxRemembered ?? 200_000;
  }

  /** setTokens replaces the known keys with those of these active tokens (a revoked token's key stops counting). */
  setTokens(tokens: readonly SiteTokenHash[]): void {
    const keys = new Map<string, { siteId: string; secret: Buffer }>();
    for (const { siteId, tokenHash } of tokens) {
      const key = probeKeyOfTokenHash(tokenHash);
      keys.set(key.id, { siteId, secret: key.secret });
    }
    this.keys = keys;
  }

  /** ofStun judges a STUN request by its USERNAME and MESSAGE-INTEGRITY (signed only when valid, fresh and first seen). */
  ofStun(packet: Buffer, request: StunMessage, nowMs = Date.now()): SignedProbeVerdict {
    if (request.username === undefined || request.integrityAt === undefined) return { signed: false };
    const claim = parseStunProbeUsername(request.username);
    const key = claim && this.keys.get(claim.keyId);
    if (!claim || !key || !probeTimeFresh(claim.timeS, nowMs) || !stunIntegrityValid(packet, request, key.secret)) return { signed: false };
    return this.firstSight(`${claim.keyId} ${request.transactionId.toString('base64')}`, key.siteId, nowMs);
  }

  /** ofSip judges a SIP request by its X-Algwatch-Signature value (undefined when it had none), as ofStun does. */
  ofSip(headerValue: string | undefined, nowMs = Date.now()): SignedProbeVerdict {
    if (headerValue === undefined) return { signed: false };
    const claim = parseSipSignatureValue(headerValue);
    const key = claim && this.keys.get(claim.keyId);
    if (!claim || !key || !probeTimeFresh(claim.timeS, nowMs) || !sipSignatureValid(claim, key.secret)) return { signed: false };
    return this.firstSight(`${claim.keyId} ${claim.nonce}`, key.siteId, nowMs);
  }

  /** allow takes one answer from the site's budget; false means the site is busy. */
  allow(siteId: string, now = performance.now()): boolean {
    return this.budgets.allow(siteId, now);
  }

  /** exhausted says whether the site's budget is empty, without spending from it. */
  exhausted(siteId: string, now = performance.now()): boolean {
    return this.budgets.exhausted(siteId, now);
  }

  // A signature counts once: a copy (replayed by someone who saw it, or a retransmission) pays
  // from its source address like an unsigned probe, so a replay cannot drain the site's budget.
  private firstSight(signature: string, siteId: string, nowMs: number): SignedProbeVerdict {
    for (const [old, forgetAt] of this.remembered) {
      if (forgetAt > nowMs && this.remembered.size < this.maxRemembered) break;
      this.remembered.delete(old);
    }
    if (this.remembered.has(signature)) return { signed: false };
    // Remembered for as long as the signature's time could still pass as fresh.
    this.remembered.set(signature, nowMs + 2 * PROBE_SIGNATURE_WINDOW_S * 1000);
    return { signed: true, siteId };
  }
}

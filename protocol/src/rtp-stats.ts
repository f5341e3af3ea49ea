/**
 * RtpReceiveStats counts one received RTP stream the way an RFC 3550 receiver report does: unique
 * packets, interarrival jitter (§6.4.1 and the code of §A.8), late (reordered) and duplicate
 * packets, and the longest silence between two arrivals. Used by the agent for each inbound stream
 * and by the reflector for the agent's outbound stream.
 */
import { RTP_CLOCK_HZ } from './rtp.js';

/** A stream's receive figures; lossPct needs the sender's count, so it is computed by streamFigures. */
export interface RtpReceiveSummary {
  /** Unique packets received (duplicates not counted). */
  received: number;
  /** RFC 3550 interarrival jitter J, in milliseconds. */
  jitterMs: number;
  /** Longest time between two consecutive arrivals, in milliseconds (0 with fewer than two). */
  maxGapMs: number;
  /** Packets that arrived after one with a higher sequence number. */
  reordered: number;
  duplicates: number;
}

export class RtpReceiveStats {
  private received = 0;
  private duplicates = 0;
  private reordered = 0;
  /** Jitter estimate in timestamp units, as §A.8 keeps it. */
  private jitter = 0;
  private lastTransit: number | null = null;
  private lastArrivalMs: number | null = null;
  private maxGapMs = 0;
  /** Highest extended sequence number seen (cycles * 65536 + seq). */
  private highest: number | null = null;
  private readonly seen = new Set<number>();

  /**
   * add takes one packet: its sequence number and RTP timestamp as sent, and its arrival time in ms
   * on the receiver's clock (any origin: only differences count).
   */
  add(sequence: number, timestamp: number, arrivalMs: number): void {
    const extended = this.extend(sequence);
    if (this.seen.has(extended)) {
      this.duplicates += 1;
      return;
    }
    this.seen.add(extended);
    this.received += 1;
    if (this.highest !== null && extended < this.highest) this.reordered += 1;
    if (this.highest === null || extended > this.highest) this.highest = extended;

    if (this.lastArrivalMs !== null) this.maxGapMs = Math.max(this.maxGapMs, arrivalMs - this.lastArrivalMs);
    this.lastArrivalMs = arrivalMs;

    // §6.4.1: D(i,j) = (Rj - Ri) - (Sj - Si) in timestamp units; J += (|D| - J) / 16. The RTP
    // timestamp is 32 bits and wraps: the difference is taken modulo 2^32 as a signed number.
    const transit = (arrivalMs * RTP_CLOCK_HZ) / 1000 - timestamp;
    if (this.lastTransit !== null) {
      let d = transit - this.lastTransit;
      if (d > 2 ** 31) d -= 2 ** 32;
      else if (d < -(2 ** 31)) d += 2 ** 32;
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  summary(): RtpReceiveSummary {
    return {
      received: this.received,
      jitterMs: round2((this.jitter * 1000) / RTP_CLOCK_HZ),
      maxGapMs: round2(this.maxGapMs),
      reordered: this.reordered,
      duplicates: this.duplicates,
    };
  }

  /** extend places a 16-bit sequence number next to the highest seen so far (RFC 3550 §A.1's idea). */
  private extend(sequence: number): number {
    if (this.highest === null) return 65_536 + sequence; // room below for late packets of the first cycle
    const base = this.highest - (this.highest % 65_536);
    const candidates = [base - 65_536 + sequence, base + sequence, base + 65_536 + sequence];
    return candidates.reduce((best, candidate) => (Math.abs(candidate - this.highest!) < Math.abs(best - this.highest!) ? candidate : best));
  }
}

/** lossPercent is the share of sent packets that never arrived, 0..100, rounded to 0.01. */
export function lossPercent(sent: number, received: number): number {
  if (sent <= 0) return 0;
  return round2((Math.max(0, sent - received) * 100) / sent);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

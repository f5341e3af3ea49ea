/**
 * SourceRateLimiter is a token bucket per source address. The reflectors answer unauthenticated UDP
 * from anywhere, so every reply is paid for from the sender's bucket: a spoofed flood toward a
 * victim gets at most `burst` replies and then `ratePerSecond`, whatever the attacker sends.
 */
export interface SourceRateLimiterOptions {
  ratePerSecond: number;
  burst: number;
  /** Buckets kept at most; the oldest-touched is forgotten first (a full table never grows). */
  maxSources: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** The source touched last, i.e. the Map's last key: touching it again needs no re-insert. */
  private newest: string | undefined;

  constructor(private readonly options: SourceRateLimiterOptions) {}

  /** allow takes one token from the source's bucket; false means drop the packet silently. */
  allow(source: string, now = performance.now()): boolean {
    let bucket = this.buckets.get(source);
    if (bucket) {
      bucket.tokens = this.tokensAt(bucket, now);
      bucket.updatedAt = now;
      if (source !== this.newest) {
        // Delete and re-insert keeps Map order = least recently used first.
        this.buckets.delete(source);
        this.buckets.set(source, bucket);
      }
    } else {
      if (this.buckets.size >= this.options.maxSources) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      bucket = { tokens: this.options.burst, updatedAt: now };
      this.buckets.set(source, bucket);
    }
    this.newest = source;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** exhausted says whether the source's bucket is empty now, without taking a token. */
  exhausted(source: string, now = performance.now()): boolean {
    const bucket = this.buckets.get(source);
    return bucket !== undefined && this.tokensAt(bucket, now) < 1;
  }

  /** tokensAt is what the bucket holds at `now`: refilled at ratePerSecond since its update, up to burst. */
  private tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.options.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.options.ratePerSecond);
  }

  get trackedSources(): number {
    return this.buckets.size;
  }
}

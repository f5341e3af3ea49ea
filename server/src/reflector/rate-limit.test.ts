import { describe, expect, it } from 'vitest';
import { SourceRateLimiter } from './rate-limit.js';

describe('SourceRateLimiter', () => {
  it('allows a burst, then refills at the configured rate', () => {
    const limiter = new SourceRateLimiter({ ratePerSecond: 10, burst: 3, maxSources: 10 });
    expect([0, 0, 0, 0].map(() => limiter.allow('a', 0))).toEqual([true, true, true, false]);
    expect(limiter.allow('a', 50)).toBe(false); // half a token
    expect(limiter.allow('a', 100)).toBe(true); // one token after 100 ms at 10/s
  });

  it('keeps sources apart and forgets the least recently seen when full', () => {
    const limiter = new SourceRateLimiter({ ratePerSecond: 1, burst: 1, maxSources: 2 });
    expect(limiter.allow('a', 0)).toBe(true);
    expect(limiter.allow('b', 0)).toBe(true);
    expect(limiter.allow('a', 1)).toBe(false);
    expect(limiter.allow('c', 2)).toBe(true); // evicts b, the least recently used
    expect(limiter.trackedSources).toBe(2);
    expect(limiter.allow('b', 3)).toBe(true); // b starts afresh
  });
});

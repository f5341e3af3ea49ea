import { describe, expect, it } from 'vitest';
import { lossPercent, RtpReceiveStats } from './rtp-stats.js';

describe('RtpReceiveStats', () => {
  it('computes RFC 3550 §6.4.1 interarrival jitter for a hand-worked sequence', () => {
    // 20 ms packets (timestamps +160 at 8 kHz) arriving at 0, 20, 45, 60 and 80 ms.
    // Transit (arrival·8 − timestamp): 0, 0, 40, 0, 0 → D: 0, 40, −40, 0
    // J: 0 → 0 + (40−0)/16 = 2.5 → 2.5 + (40−2.5)/16 = 4.84375 → 4.84375 + (0−4.84375)/16 = 4.541015625
    // 4.541015625 timestamp units / 8 per ms = 0.5676 ms.
    const stats = new RtpReceiveStats();
    [0, 20, 45, 60, 80].forEach((arrival, i) => stats.add(100 + i, 5000 + 160 * i, arrival));
    expect(stats.summary()).toEqual({ received: 5, jitterMs: 0.57, maxGapMs: 25, reordered: 0, duplicates: 0 });
  });

  it('finds no jitter in a perfectly paced stream, whatever the clocks\' origins', () => {
    const stats = new RtpReceiveStats();
    for (let i = 0; i < 50; i++) stats.add(i, 4_294_967_000 + 160 * i, 123_456.7 + 20 * i); // timestamp wraps past 2^32
    expect(stats.summary().jitterMs).toBe(0);
  });

  it('counts a late packet as reordered and a repeated one as a duplicate, not as received twice', () => {
    const stats = new RtpReceiveStats();
    for (const [seq, at] of [[0, 0], [1, 20], [3, 60], [2, 61], [4, 80], [4, 81]] as const) stats.add(seq, seq * 160, at);
    expect(stats.summary()).toMatchObject({ received: 5, reordered: 1, duplicates: 1 });
  });

  it('follows sequence numbers across the 16-bit wrap', () => {
    const stats = new RtpReceiveStats();
    [65_534, 65_535, 0, 1].forEach((seq, i) => stats.add(seq, i * 160, i * 20));
    expect(stats.summary()).toMatchObject({ received: 4, reordered: 0, duplicates: 0 });
  });
});

describe('lossPercent', () => {
  it('is the share of sent packets that never arrived', () => {
    expect(lossPercent(250, 250)).toBe(0);
    expect(lossPercent(500, 400)).toBe(20);
    expect(lossPercent(3, 2)).toBe(33.33);
    expect(lossPercent(0, 0)).toBe(0);
  });
});

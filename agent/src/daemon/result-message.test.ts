import { describe, expect, it } from 'vitest';
import { failureReason } from './result-message.js';

describe('failureReason', () => {
  const point = { measurement: 'sip_options' as const, tags: { target: 'pbx', transport: 'udp', result: 'timeout' }, fields: { loss_pct: 100 } };

  it("names why a keep-alive failed from its detail when the run has no error (never an empty 'failed: ')", () => {
    expect(failureReason({ detail: { result: 'timeout', reason: 'no answer from 203.0.113.20:5060 within 2000 ms' }, points: [point] })).toBe('no answer from 203.0.113.20:5060 within 2000 ms');
  });

  it("prefers the run's error, and falls back to the result tag", () => {
    expect(failureReason({ error: 'probe timed out after 15000 ms', detail: { reason: 'x' }, points: [point] })).toBe('probe timed out after 15000 ms');
    expect(failureReason({ detail: null, points: [point] })).toBe('result timeout');
    expect(failureReason({ detail: null, points: [] })).toBe('no reason given');
  });
});

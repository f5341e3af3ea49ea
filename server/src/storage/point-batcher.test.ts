import { describe, expect, it } from 'vitest';
import { PointBatcher } from './point-batcher.js';
import type { StoredPoint } from './time-series.js';

function points(count: number, from = 0): StoredPoint[] {
  return Array.from({ length: count }, (_, n) => ({
    measurement: 'crlf_keepalive',
    tags: { site: 's' },
    fields: { rtt_ms: 1 },
    timestampMs: from + n,
  }));
}

describe('PointBatcher', () => {
  it('joins small writes into one batch and splits a large one at maxPoints, in order', async () => {
    const batches: number[][] = [];
    const batcher = new PointBatcher(async (batch) => void batches.push(batch.map((p) => p.timestampMs)), { maxPoints: 4, maxDelayMs: 20 });
    await Promise.all([batcher.add(points(1, 0)), batcher.add(points(2, 1)), batcher.add(points(6, 3))]);
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8],
    ]);
  });

  it('persists a lone small write after maxDelayMs', async () => {
    let persisted = 0;
    const batcher = new PointBatcher(async (batch) => void (persisted += batch.length), { maxPoints: 1000, maxDelayMs: 10 });
    await batcher.add(points(3));
    expect(persisted).toBe(3);
  });

  it('rejects only the writes whose points were in a failed batch', async () => {
    let calls = 0;
    const batcher = new PointBatcher(
      async () => {
        calls += 1;
        if (calls === 2) throw new Error('disk full');
      },
      { maxPoints: 2, maxDelayMs: 10 },
    );
    const results = await Promise.allSettled([batcher.add(points(2)), batcher.add(points(1)), batcher.add(points(1))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    await expect(batcher.add(points(1))).resolves.toBeUndefined();
  });
});

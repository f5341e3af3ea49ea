import { describe, expect, it } from 'vitest';
import { probeResultSchema } from '@algwatch/protocol/events';
import { newResultId } from './result-id.js';

describe('newResultId', () => {
  it('makes RFC 9562 version 7 UUIDs carrying the time in their first 48 bits', () => {
    const at = Date.UTC(2026, 10, 25, 21, 0, 0, 123);
    const id = newResultId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts ids by time and never repeats one', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => newResultId(1_795_000_000_000 + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    const firstOfEachMs = ids.filter((_, i) => i % 100 === 0);
    expect([...firstOfEachMs].sort()).toEqual(firstOfEachMs);
  });

  it('passes the wire schema of result ids', () => {
    expect(probeResultSchema.shape.id.safeParse(newResultId()).success).toBe(true);
  });
});

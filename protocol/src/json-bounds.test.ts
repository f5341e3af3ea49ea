import { describe, expect, it } from 'vitest';
import { DETAIL_BOUNDS, jsonBoundsProblem } from './json-bounds.js';

const bounds = { maxDepth: 3, maxNodes: 20, maxStringLength: 10, maxBytes: 60 };

describe('jsonBoundsProblem', () => {
  it('accepts plain JSON data within the bounds', () => {
    expect(jsonBoundsProblem({ a: [1, 'two', null, { b: true }] }, bounds)).toBeNull();
    expect(jsonBoundsProblem(null, bounds)).toBeNull();
  });

  it('names the bound a value crosses', () => {
    expect(jsonBoundsProblem([[[[1]]]], bounds)).toBe('nested deeper than 3 levels');
    expect(jsonBoundsProblem(Array(20).fill(0), { ...bounds, maxBytes: 1000 })).toBe('more than 20 values');
    expect(jsonBoundsProblem({ text: 'x'.repeat(11) }, bounds)).toBe('a string longer than 10 characters');
    expect(jsonBoundsProblem({ ['k'.repeat(11)]: 1 }, bounds)).toBe('a key longer than 10 characters');
    expect(jsonBoundsProblem(['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx'], bounds)).toBe('larger than 60 bytes');
    expect(jsonBoundsProblem({ n: Number.NaN }, bounds)).toBe('a number that is not finite');
    expect(jsonBoundsProblem({ when: new Date(0) }, bounds)).toBe('a value of type object, not JSON data');
  });

  it('refuses a 450,000-level nested array quickly and without exhausting the stack', () => {
    let deep: unknown[] = [];
    for (let level = 0; level < 450_000; level++) deep = [deep];
    expect(jsonBoundsProblem(deep, DETAIL_BOUNDS)).toBe('nested deeper than 6 levels');
  });

  it('accepts the largest real detail: a sip-alg report with 40 rewritten header lines', () => {
    const line = 'SIP/2.0/UDP 198.51.100.2:41234;branch=z9hG4bK-0123456789abcdef;rport;received=203.0.113.1';
    const rewrites = Array.from({ length: 40 }, (_, i) => ({ direction: i % 2 ? 'inbound' : 'outbound', field: 'Via', sent: line, received: line.replace('198.51.100.2', '203.0.113.1') }));
    expect(jsonBoundsProblem({ status: 'detected', rttMs: 1.2, rewrites }, DETAIL_BOUNDS)).toBeNull();
  });
});

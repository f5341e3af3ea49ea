import { describe, expect, it } from 'vitest';
import { probeResultSchema } from './events.js';
import { readProbeResult } from './result-check.js';

function validResult(): Record<string, unknown> {
  return {
    id: '019ab3c2-7f10-7abc-8def-0123456789ab',
    probe: 'sip-alg',
    target: 'reflector.example.net',
    transport: 'udp',
    startedAt: 1_795_640_000_000,
    durationMs: 12.5,
    success: true,
    points: [
      {
        measurement: 'sip_alg',
        tags: { target: 'reflector.example.net', transport: 'udp', result: 'detected' },
        fields: { alg_detected: true, rewrites_outbound: 3, rewrites_inbound: 1, rewritten_fields: 'Via,Contact', rtt_ms: 1.5 },
      },
    ],
    detail: { status: 'detected', rewrites: [] },
  };
}

/** nestedArrays is `[[[...]]]` `depth` levels deep, built without recursion. */
function nestedArrays(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let level = 1; level < depth; level++) value = [value];
  return value;
}

/** A deterministic generator of small changes, each of which may or may not break the schema. */
function* mutants(): Generator<unknown> {
  const values: unknown[] = [
    undefined, null, 0, -1, 1.5, 2 ** 53, Number.NaN, '', 'x'.repeat(301), 'x'.repeat(1025), true, [], {}, 'sip-alg', 'udp',
    '019ab3c2-7f10-7abc-8def-0123456789AB', '00000000-0000-0000-0000-000000000000', 'tenant', 'site', 'rtt_ms', 'nat_behavior',
    'tls', 'sctp', 'probe_run', 1e308, Number.POSITIVE_INFINITY, 946_684_799_999, 86_400_001, 'x'.repeat(2049),
    nestedArrays(7), nestedArrays(450_000), Array.from({ length: 2001 }, () => 0), { text: 'x'.repeat(2000), more: Array(40).fill('y'.repeat(2000)) },
  ];
  const paths: string[][] = [
    ['id'], ['probe'], ['target'], ['transport'], ['startedAt'], ['durationMs'], ['success'], ['error'], ['points'], ['detail'], ['extra'],
    ['points', '0'], ['points', '0', 'measurement'], ['points', '0', 'tags'], ['points', '0', 'fields'], ['points', '0', 'extra'],
    ['points', '0', 'tags', 'transport'], ['points', '0', 'tags', 'site'], ['points', '0', 'tags', 'x'.repeat(65)],
    ['points', '0', 'fields', 'rtt_ms'], ['points', '0', 'fields', 'rewrites_outbound'], ['points', '0', 'fields', 'alg_detected'],
    ['points', '0', 'fields', 'rewritten_fields'], ['points', '0', 'fields', 'unknown_field'],
  ];
  yield validResult();
  for (const path of paths) {
    for (const value of values) {
      const result = validResult();
      let node = result as Record<string, unknown>;
      for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
      node[path.at(-1)!] = value;
      yield result;
      const without = validResult();
      let parent = without as Record<string, unknown>;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
      delete parent[path.at(-1)!];
      yield without;
    }
  }
  yield { ...validResult(), points: Array.from({ length: 17 }, () => (validResult().points as unknown[])[0]) };
  yield JSON.parse('{"__proto__": {"polluted": true}}');
  yield [validResult()];
  yield 'result';
}

describe('readProbeResult', () => {
  it('accepts a well-formed result as it is', () => {
    const result = validResult();
    expect(readProbeResult(result)).toBe(result);
  });

  it('refuses a detail nested 450,000 levels deep, a non-finite or day-long duration and a date before 2000', () => {
    for (const [key, value] of [['detail', nestedArrays(450_000)], ['durationMs', 1e308], ['durationMs', 86_400_001], ['startedAt', 946_684_799_999]] as const) {
      const candidate = { ...validResult(), [key]: value };
      expect(readProbeResult(candidate), key).toBeNull();
      expect(probeResultSchema.safeParse(candidate).success, key).toBe(false);
    }
    const refusal = probeResultSchema.safeParse({ ...validResult(), detail: nestedArrays(450_000) });
    expect(refusal.error?.issues[0]?.message).toBe('detail has nested deeper than 6 levels');
  });

  it('never accepts what the zod schema refuses, and gives what zod gives when it accepts', () => {
    let accepted = 0;
    let refused = 0;
    for (const candidate of mutants()) {
      const fast = readProbeResult(candidate);
      const checked = probeResultSchema.safeParse(candidate);
      if (fast === null) {
        refused++;
        continue;
      }
      accepted++;
      expect(checked.success, `${JSON.stringify(candidate).slice(150, 700)} ${checked.error?.message ?? ""}`).toBe(true);
      expect(fast).toEqual(checked.data);
    }
    // Both outcomes are exercised, so the comparison above is not empty.
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(200);
  });
});

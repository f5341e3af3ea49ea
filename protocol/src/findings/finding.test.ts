import { describe, expect, it } from 'vitest';
import { boundEvidence, clip, raise, SEVERITY_RANK, worstFirst, worstSeverity, type FindingDefinition } from './finding.js';

const definition: FindingDefinition = { code: 'nat_symmetric', source: 'nat-behavior', defaultSeverity: 'warning', title: 't', impact: 'i', remediation: 'r' };

describe('finding basics', () => {
  it('ranks critical over warning over info', () => {
    expect(SEVERITY_RANK).toEqual({ critical: 3, warning: 2, info: 1 });
    const found = [raise(definition, {}, { summary: 'a', severity: 'info' }), raise(definition, {}, { summary: 'b', severity: 'critical' }), raise(definition, {}, { summary: 'c' })];
    expect(worstFirst(found).map((f) => f.summary)).toEqual(['b', 'c', 'a']);
    expect(worstSeverity(found)).toBe('critical');
    expect(worstSeverity([])).toBeNull();
  });

  it('keeps a summary on one line and clips it', () => {
    expect(clip('one\r\ntwo', 300)).toBe('one two');
    expect(clip('x'.repeat(400), 300)).toBe(`${'x'.repeat(299)}…`);
  });

  it('bounds evidence to 20 lines of 300 characters', () => {
    const bounded = boundEvidence(Array.from({ length: 50 }, () => 'y'.repeat(10_000)));
    expect(bounded).toHaveLength(20);
    expect(bounded.every((line) => line.length === 300)).toBe(true);
  });

  it('applies the definition: its default severity and remediation unless the measurement says otherwise', () => {
    expect(raise(definition, { target: 'pbx' }, { summary: 's' })).toEqual({ code: 'nat_symmetric', severity: 'warning', summary: 's', remediation: 'r', target: 'pbx', evidence: [] });
    expect(raise(definition, {}, { summary: 's', remediation: 'other' }).remediation).toBe('other');
  });
});

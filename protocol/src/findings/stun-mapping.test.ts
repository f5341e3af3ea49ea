import { describe, expect, it } from 'vitest';
import { stunMappingResult } from '../../../test/helpers/probe-results.js';
import { stunAnswered, stunMappingFindings } from './stun-mapping.js';

describe('stun-mapping findings', () => {
  it('reports a STUN run without an answer as stun_failing, with the reason as evidence', () => {
    const result = stunMappingResult(false);
    expect(stunAnswered(result)).toBe(false);
    const [finding] = stunMappingFindings(false, result.error, { target: 'reflector' });
    expect(finding).toMatchObject({ code: 'stun_failing', severity: 'warning', target: 'reflector', evidence: ['no answer from 203.0.113.10:3478'] });
  });

  it('finds nothing in an answered run', () => {
    expect(stunAnswered(stunMappingResult(true))).toBe(true);
    expect(stunMappingFindings(true, undefined, {})).toEqual([]);
  });
});

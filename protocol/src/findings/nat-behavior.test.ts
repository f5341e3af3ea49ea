import { describe, expect, it } from 'vitest';
import { natBehaviorResult } from '../../../test/helpers/probe-results.js';
import { natMappingFindings, natMappingOf, natMappingSeverity } from './nat-behavior.js';

describe('nat-behavior findings', () => {
  it('warns about address- and address-and-port-dependent mapping only', () => {
    expect(natMappingSeverity('address-dependent')).toBe('warning');
    expect(natMappingSeverity('address-and-port-dependent')).toBe('warning');
    expect(natMappingSeverity('endpoint-independent')).toBeNull();
    expect(natMappingSeverity('unknown')).toBeNull();
  });

  it('names the mapping in the summary', () => {
    const [finding] = natMappingFindings('address-and-port-dependent', { target: 'reflector' });
    expect(finding).toMatchObject({ code: 'nat_symmetric', severity: 'warning', target: 'reflector' });
    expect(finding!.summary).toBe('Symmetric NAT: the public port changes with each destination (mapping address-and-port-dependent)');
  });

  it('reads the mapping from the stored point and ignores a tag that is no behaviour', () => {
    expect(natMappingOf(natBehaviorResult('address-dependent'))).toBe('address-dependent');
    const odd = natBehaviorResult('endpoint-independent');
    odd.points[0]!.tags.mapping = 'full-cone';
    expect(natMappingOf(odd)).toBeNull();
  });
});

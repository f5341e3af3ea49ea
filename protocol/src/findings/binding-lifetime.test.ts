import { describe, expect, it } from 'vitest';
import { bindingLifetimeResult } from '../../../test/helpers/probe-results.js';
import { bindingLifetimeFindings, bindingLifetimeSeverity, measuredLifetimeOf } from './binding-lifetime.js';
import { THRESHOLDS } from './finding.js';

describe('bindingLifetimeSeverity', () => {
  it('is critical at and below the common 30 s phone keep-alive, a warning under RFC 4787 two minutes, fine from there', () => {
    expect(THRESHOLDS.bindingCriticalSeconds).toBe(30);
    expect(THRESHOLDS.bindingWarningSeconds).toBe(120);
    expect([20, 30, 30.5, 90, 119, 120, 600].map(bindingLifetimeSeverity)).toEqual(['critical', 'critical', 'warning', 'warning', 'warning', null, null]);
  });
});

describe('bindingLifetimeFindings', () => {
  it('advises a keep-alive of 80 % of the longest idle the binding survived', () => {
    const [finding] = bindingLifetimeFindings({ udpSeconds: 60, lowerSeconds: 59 }, { target: 'reflector' });
    expect(finding).toMatchObject({ code: 'udp_binding_short', severity: 'warning', target: 'reflector' });
    expect(finding!.summary).toBe('UDP NAT bindings expire after about 60 s idle, under the 2 minutes RFC 4787 asks of NATs');
    expect(finding!.remediation).toContain('47 s or less');
  });

  it('says a 20 s binding is below what phones keep alive', () => {
    const [finding] = bindingLifetimeFindings({ udpSeconds: 20, lowerSeconds: 19 }, {});
    expect(finding!.severity).toBe('critical');
    expect(finding!.summary).toContain('at or below the 30 s keep-alive many phones use');
  });

  it('finds nothing when bindings outlived the test', () => {
    expect(bindingLifetimeFindings({ udpSeconds: null, lowerSeconds: 300 }, {})).toEqual([]);
  });
});

describe('measuredLifetimeOf', () => {
  it('reads the lifetime from the stored point, and "outlived" as null seconds', () => {
    expect(measuredLifetimeOf(bindingLifetimeResult(20))).toEqual({ udpSeconds: 20, lowerSeconds: 19 });
    expect(measuredLifetimeOf(bindingLifetimeResult(null))).toEqual({ udpSeconds: null, lowerSeconds: 300 });
    expect(measuredLifetimeOf({ points: [] })).toBeNull();
  });
});

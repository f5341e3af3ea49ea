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

describe('fresh vs established lifetimes', () => {
  const at = { target: 'reflector' };

  it('grades by the established lifetime: 30 s fresh / 180 s stream is info, with the keep-alive advice', () => {
    const [finding, ...rest] = bindingLifetimeFindings({ udpSeconds: 30, lowerSeconds: 29, establishedSeconds: 180, establishedLowerSeconds: 179 }, at);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'udp_binding_short', severity: 'info' });
    expect(finding?.summary).toBe('UDP NAT bindings expire after about 30 s idle when fresh, and after about 180 s once they carried traffic both ways');
    expect(finding?.remediation).toBe('Phones that keep their binding busy are fine once their first keep-alive is answered: send the first keep-alive within 23 s of registering and then every 143 s or less.');
  });

  it('10 s fresh / 40 s stream is a warning (established under two minutes), not critical', () => {
    const [finding] = bindingLifetimeFindings({ udpSeconds: 10, lowerSeconds: 9, establishedSeconds: 40, establishedLowerSeconds: 39 }, at);
    expect(finding?.severity).toBe('warning');
    expect(finding?.remediation).toMatch(/^Even bindings kept busy expire after about 40 s: send the first keep-alive within 7 s of registering and then every 31 s or less/);
  });

  it('both at 30 s stays critical; established outliving the test leaves an info about the first keep-alive', () => {
    expect(bindingLifetimeFindings({ udpSeconds: 30, lowerSeconds: 29, establishedSeconds: 30, establishedLowerSeconds: 29 }, at)[0]?.severity).toBe('critical');
    expect(bindingLifetimeFindings({ udpSeconds: 20, lowerSeconds: 19, establishedSeconds: null, establishedLowerSeconds: 300 }, at)[0]?.severity).toBe('info');
    expect(bindingLifetimeFindings({ udpSeconds: null, lowerSeconds: 300, establishedSeconds: null, establishedLowerSeconds: 300 }, at)).toEqual([]);
  });

  it('reads both lifetimes back from a stored point, and an older agent\'s point as fresh only', () => {
    const result = bindingLifetimeResult(10);
    const fields = result.points[0]!.fields;
    expect(measuredLifetimeOf(result)).not.toHaveProperty('establishedSeconds');
    Object.assign(fields, { established_lifetime_s: 40, established_lower_s: 39, established_upper_s: 40, established_outlived_max: false });
    expect(measuredLifetimeOf(result)).toMatchObject({ udpSeconds: 10, establishedSeconds: 40, establishedLowerSeconds: 39 });
  });
});

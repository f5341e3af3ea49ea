import { describe, expect, it } from 'vitest';
import { DEFAULT_RULE_SETTINGS, parseStatusCodes, resolveRuleSettings, ruleOverrideSchema, statusCodeMatches } from './rule-settings.js';

describe('rule settings', () => {
  it('fire an ALG verdict at once and resolve it after two clean results', () => {
    expect(DEFAULT_RULE_SETTINGS.sip_alg_udp).toMatchObject({ forMs: 0, clearAfter: 2, severity: 'critical', enabled: true });
  });

  it('let a site override win over its tenant, setting by setting', () => {
    const settings = resolveRuleSettings('target_down', { threshold: 5, severity: 'warning' }, { threshold: 2 });
    expect(settings.threshold).toBe(2);
    expect(settings.severity).toBe('warning');
    expect(settings.clearAfter).toBe(DEFAULT_RULE_SETTINGS.target_down.clearAfter);
  });

  it('treat 503 as maintenance, not as an error', () => {
    expect(statusCodeMatches(DEFAULT_RULE_SETTINGS.target_error.codes, 503)).toBe(false);
    expect(statusCodeMatches(DEFAULT_RULE_SETTINGS.target_maintenance.codes, 503)).toBe(true);
    expect(statusCodeMatches(DEFAULT_RULE_SETTINGS.target_error.codes, 404)).toBe(true);
    expect(statusCodeMatches(DEFAULT_RULE_SETTINGS.target_error.codes, 200)).toBe(false);
  });

  it('refuse malformed overrides', () => {
    expect(parseStatusCodes('404,480-499')).toEqual([[404, 404], [480, 499]]);
    expect(parseStatusCodes('abc')).toBeNull();
    expect(parseStatusCodes('499-480')).toBeNull();
    expect(ruleOverrideSchema.safeParse({ codes: '99' }).success).toBe(false);
    expect(ruleOverrideSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(ruleOverrideSchema.safeParse({ threshold: 4, severity: 'info' }).success).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { applyObservation, applyTick, FLAP, newAlertRecord, type AlertRecord } from './lifecycle.js';
import { DEFAULT_RULE_SETTINGS, resolveRuleSettings } from './rule-settings.js';

const record = (rule: AlertRecord['rule'] = 'sip_alg_udp') =>
  newAlertRecord({ fingerprint: 'f'.repeat(64), rule, tenant: 'acme', siteId: 's1', siteName: 'hq', severity: 'critical' });
const on = { rule: 'sip_alg_udp' as const, active: true, summary: 'SIP ALG is rewriting', evidence: ['outbound Via: a -> b'] };
const off = { rule: 'sip_alg_udp' as const, active: false };

describe('alert lifecycle', () => {
  it('fires an ALG verdict on the first detected result and resolves it after 2 clean ones', () => {
    const alert = record();
    const settings = DEFAULT_RULE_SETTINGS.sip_alg_udp;
    expect(applyObservation(alert, on, settings, 1_000)).toBe('firing');
    expect(alert).toMatchObject({ state: 'firing', startsAt: 1_000, summary: 'SIP ALG is rewriting', evidence: ['outbound Via: a -> b'] });
    expect(applyObservation(alert, on, settings, 2_000)).toBeNull();
    expect(applyObservation(alert, off, settings, 3_000)).toBeNull();
    expect(applyObservation(alert, on, settings, 4_000)).toBeNull();
    expect(applyObservation(alert, off, settings, 5_000)).toBeNull();
    expect(applyObservation(alert, off, settings, 6_000)).toBe('resolved');
    expect(alert).toMatchObject({ state: 'resolved', endsAt: 6_000, startsAt: 1_000 });
  });

  it('holds a condition pending for the rule\'s `for` and forgets it when it clears first', () => {
    const alert = record('target_slow');
    const settings = resolveRuleSettings('target_slow', undefined, { forMs: 60_000 });
    const slow = { rule: 'target_slow' as const, active: true };
    expect(applyObservation(alert, slow, settings, 0)).toBe('pending');
    expect(applyObservation(alert, slow, settings, 30_000)).toBeNull();
    expect(applyObservation(alert, { ...slow, active: false }, settings, 45_000)).toBe('cleared');
    expect(applyObservation(alert, slow, settings, 50_000)).toBe('pending');
    expect(applyObservation(alert, slow, settings, 110_000)).toBe('firing');
    expect(alert.startsAt).toBe(110_000);
  });

  it('starts a new episode each time it fires again', () => {
    const alert = record();
    const settings = resolveRuleSettings('sip_alg_udp', undefined, { clearAfter: 1 });
    applyObservation(alert, on, settings, 1_000);
    const first = alert.episode;
    applyObservation(alert, off, settings, 2_000);
    applyObservation(alert, on, settings, 3_000);
    expect(alert.episode).not.toBe(first);
  });

  it('damps a flapping alert: once flapping it stays firing until quiet for the hold time', () => {
    const alert = record();
    const settings = resolveRuleSettings('sip_alg_udp', undefined, { clearAfter: 1 });
    let now = 0;
    const transitions: Array<string | null> = [];
    for (let i = 0; i < FLAP.threshold; i++) {
      transitions.push(applyObservation(alert, on, settings, (now += 60_000)));
      transitions.push(applyObservation(alert, off, settings, (now += 60_000)));
    }
    // The fourth episode does not resolve on its clean result: the alert is flapping.
    expect(transitions.filter((t) => t === 'firing')).toHaveLength(FLAP.threshold);
    expect(transitions.filter((t) => t === 'resolved')).toHaveLength(FLAP.threshold - 1);
    expect(alert.state).toBe('firing');
    expect(applyTick(alert, settings, now + FLAP.holdMs / 2)).toBeNull();
    expect(applyTick(alert, settings, now + FLAP.holdMs)).toBe('resolved');
  });
});

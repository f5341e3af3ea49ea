import { describe, expect, it } from 'vitest';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { resolveRuleSettings, type RuleName, type RuleOverride } from '../rule-settings.js';
import { lifetimeResult, natResult, optionsResult, sipAlgResult, stunResult } from '../test-results.js';
import { observeResult, type Observation, type RuleContext, type RuleMemory } from './index.js';

/** A site's rule state across results, as the engine keeps it per alert key. */
function site(overrides: Partial<Record<RuleName, RuleOverride>> = {}, keepaliveIntervalSeconds: number | null = 30) {
  const memories = new Map<string, RuleMemory>();
  const context: RuleContext = {
    settings: (rule) => resolveRuleSettings(rule, undefined, overrides[rule]),
    memory: (rule, target, transport) => {
      const key = `${rule} ${target} ${transport}`;
      if (!memories.has(key)) memories.set(key, {});
      return memories.get(key) as RuleMemory;
    },
    keepaliveIntervalSeconds,
  };
  return (result: ProbeResultMessage, rule?: RuleName): Observation[] => observeResult(result, context).filter((o) => rule === undefined || o.rule === rule);
}

describe('alert rules', () => {
  it('see a SIP ALG per transport, with the rewritten fields as evidence', () => {
    const observe = site();
    const [udp] = observe(sipAlgResult('udp', 'detected'), 'sip_alg_udp');
    expect(udp).toMatchObject({ rule: 'sip_alg_udp', transport: 'udp', active: true });
    expect(udp?.summary).toContain('Via');
    expect(udp?.evidence?.join('\n')).toContain('203.0.113.1:5060');
    expect(observe(sipAlgResult('tcp', 'clean'), 'sip_alg_tcp')).toEqual([expect.objectContaining({ active: false })]);
    expect(observe(sipAlgResult('tls', 'detected'), 'sip_tls_intercepted')[0]?.active).toBe(true);
  });

  it('call SIP over UDP blocked only after it failed the configured number of times in a row', () => {
    const observe = site();
    expect(observe(sipAlgResult('udp', 'blocked'), 'sip_udp_blocked')[0]?.active).toBe(false);
    expect(observe(sipAlgResult('udp', 'blocked'), 'sip_udp_blocked')[0]?.active).toBe(true);
    expect(observe(sipAlgResult('udp', 'clean'), 'sip_udp_blocked')[0]?.active).toBe(false);
  });

  it('call a target down after 3 unanswered keep-alives in a row, and up on the next answer', () => {
    const observe = site();
    const down = () => observe(optionsResult('timeout'), 'target_down')[0]?.active;
    expect([down(), down(), down()]).toEqual([false, false, true]);
    expect(observe(optionsResult({ status: 200 }), 'target_down')[0]?.active).toBe(false);
  });

  it('tell errors from maintenance (503) and honour a configured code set', () => {
    const observe = site({ target_error: { codes: '404' } });
    const error = (status: number) => observe(optionsResult({ status }), 'target_error')[0]?.active;
    const maintenance = (status: number) => observe(optionsResult({ status }), 'target_maintenance')[0]?.active;
    expect([error(404), error(500), error(503), maintenance(503), maintenance(404)]).toEqual([true, false, false, true, false]);
  });

  it('call a target slow over the RTT threshold and lossy only over a full window', () => {
    const observe = site({ target_lossy: { window: 3, threshold: 10 } });
    expect(observe(optionsResult({ status: 200, rttMs: 900 }), 'target_slow')[0]?.active).toBe(true);
    expect(observe(optionsResult({ status: 200, rttMs: 20 }), 'target_slow')[0]?.active).toBe(false);
    const lossy = (lossPct: number) => observe(optionsResult({ status: 200, lossPct }), 'target_lossy')[0]?.active;
    // The two results above already put 0 % twice into the window of 3.
    expect(lossy(40)).toBe(true); // (0 + 0 + 40) / 3 > 10
    // The 40 % run leaves the window only after three more clean ones.
    expect([lossy(0), lossy(0), lossy(0)]).toEqual([true, true, false]);
  });

  it('see the public address change once, and port preservation lost only where it was had', () => {
    const observe = site();
    expect(observe(stunResult({ address: '203.0.113.1' }), 'public_address_changed')).toEqual([]);
    expect(observe(stunResult({ address: '203.0.113.9' }), 'public_address_changed')[0]).toMatchObject({ active: true, summary: 'public address changed from 203.0.113.1 to 203.0.113.9' });
    expect(observe(stunResult({ address: '203.0.113.9' }), 'public_address_changed')[0]?.active).toBe(false);
    expect(observe(stunResult({ address: '203.0.113.9', preserved: false }), 'port_preservation_lost')[0]?.active).toBe(true);
    const neverPreserved = site();
    expect(neverPreserved(stunResult({ address: '203.0.113.9', preserved: false }), 'port_preservation_lost')).toEqual([]);
  });

  it('call STUN failing after 3 unanswered runs', () => {
    const observe = site();
    const failing = () => observe(stunResult('no_answer'), 'stun_failing')[0]?.active;
    expect([failing(), failing(), failing()]).toEqual([false, false, true]);
  });

  it('see NAT mapping get worse than it was, and recover', () => {
    const observe = site();
    expect(observe(natResult(1), 'nat_mapping_worse')).toEqual([]);
    expect(observe(natResult(3), 'nat_mapping_worse')[0]).toMatchObject({ active: true, summary: 'NAT mapping got worse: endpoint-independent -> address-and-port-dependent' });
    expect(observe(natResult(1), 'nat_mapping_worse')[0]?.active).toBe(false);
  });

  it('compare binding lifetimes with the site keep-alive interval and with the last measurement', () => {
    const observe = site({}, 60);
    expect(observe(lifetimeResult(300), 'udp_binding_short')[0]?.active).toBe(false);
    expect(observe(lifetimeResult(140), 'udp_binding_halved')[0]?.active).toBe(true);
    expect(observe(lifetimeResult(55), 'udp_binding_short')[0]?.active).toBe(true);
    expect(observe(lifetimeResult(290), 'udp_binding_halved')[0]?.active).toBe(false);
  });

  it('say nothing for a rule switched off', () => {
    const observe = site({ sip_alg_udp: { enabled: false } });
    expect(observe(sipAlgResult('udp', 'detected'), 'sip_alg_udp')).toEqual([]);
  });
});

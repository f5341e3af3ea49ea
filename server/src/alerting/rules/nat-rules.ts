/**
 * The STUN rules: the public address changed, port preservation was lost, STUN failing (N results
 * in a row without an answer), and the NAT's mapping behaviour got worse (to address- or
 * address-and-port-dependent). Each remembers the last good value per target.
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { NAT_BEHAVIOURS } from '@algwatch/protocol/measurements';
import { countConsecutive, numberField, pointOf, type Observation, type RuleContext } from './observation.js';

/** observeStunMapping covers public_address_changed, port_preservation_lost and stun_failing. */
export function observeStunMapping(result: ProbeResultMessage, context: RuleContext): Observation[] {
  if (result.probe !== 'stun-mapping') return [];
  const target = result.target;
  const failing = countConsecutive(context.memory('stun_failing', target), !result.success);
  const observations: Observation[] = [
    {
      rule: 'stun_failing',
      target,
      active: failing >= (context.settings('stun_failing').threshold ?? 1),
      summary: `STUN to ${target} got no answer ${failing} times in a row${result.error ? ` (${result.error})` : ''}`,
    },
  ];
  const point = pointOf(result, 'stun_mapping');
  const address = point?.fields.public_address;
  const preserved = point?.fields.port_preserved;
  if (!result.success || typeof address !== 'string') return observations;

  // An address change is an event: it fires on the change and resolves once the next result shows
  // the same (new) address, i.e. once the site is stable again.
  const addressMemory = context.memory('public_address_changed', target);
  const previous = typeof addressMemory.address === 'string' ? addressMemory.address : undefined;
  addressMemory.address = address;
  if (previous !== undefined) {
    observations.push({
      rule: 'public_address_changed',
      target,
      active: previous !== address,
      summary: `public address changed from ${previous} to ${address}`,
      evidence: [`public address: ${previous} -> ${address}`],
    });
  }

  if (typeof preserved === 'boolean') {
    const portMemory = context.memory('port_preservation_lost', target);
    // Only a NAT that once preserved ports can lose it: one that never did is not news.
    if (preserved) portMemory.everPreserved = true;
    if (portMemory.everPreserved === true) {
      const port = numberField(point, 'public_port');
      observations.push({
        rule: 'port_preservation_lost',
        target,
        active: !preserved,
        summary: `the NAT no longer keeps the source port (public port now ${port ?? 'unknown'})`,
      });
    }
  }
  return observations;
}

/** observeNatBehavior covers nat_mapping_worse against the best mapping seen before. */
export function observeNatBehavior(result: ProbeResultMessage, context: RuleContext): Observation[] {
  if (result.probe !== 'nat-behavior') return [];
  const code = numberField(pointOf(result, 'nat_behavior'), 'mapping_code');
  if (code === undefined || code === 0) return []; // unknown says nothing
  const memory = context.memory('nat_mapping_worse', result.target);
  const baseline = typeof memory.baseline === 'number' ? memory.baseline : undefined;
  if (baseline === undefined || code < baseline) {
    memory.baseline = code;
    return baseline === undefined ? [] : [{ rule: 'nat_mapping_worse', target: result.target, active: false }];
  }
  const worse = code > baseline && code >= 2;
  return [
    {
      rule: 'nat_mapping_worse',
      target: result.target,
      active: worse,
      summary: `NAT mapping got worse: ${NAT_BEHAVIOURS[baseline]} -> ${NAT_BEHAVIOURS[code]}`,
      evidence: [`mapping: ${NAT_BEHAVIOURS[baseline]} -> ${NAT_BEHAVIOURS[code]}`],
    },
  ];
}

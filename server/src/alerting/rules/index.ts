/** observeResult runs every result rule over one stored result. */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { observeSipAlg } from './alg-rules.js';
import { observeBindingLifetime } from './binding-rules.js';
import { observeKeepalive } from './keepalive-rules.js';
import { observeNatBehavior, observeStunMapping } from './nat-rules.js';
import type { Observation, ResultRule, RuleContext } from './observation.js';

const RESULT_RULES: ResultRule[] = [observeSipAlg, observeStunMapping, observeNatBehavior, observeBindingLifetime, observeKeepalive];

/** observeResult returns what every enabled rule sees in the result (disabled rules say nothing). */
export function observeResult(result: ProbeResultMessage, context: RuleContext): Observation[] {
  return RESULT_RULES.flatMap((rule) => rule(result, context)).filter((observation) => context.settings(observation.rule).enabled);
}

export type { Observation, RuleContext, RuleMemory } from './observation.js';

/**
 * What a rule says about one alert after looking at one result (or at the clock): whether its
 * condition holds now, and in words what was seen. The lifecycle (lifecycle.ts) turns a run of
 * observations into pending / firing / resolved.
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import type { RuleName, RuleSettings } from '../rule-settings.js';

export interface Observation {
  rule: RuleName;
  /** The SIP peer or reflector the result is about; the agent id for agent_offline. */
  target?: string;
  transport?: string;
  agent?: string;
  active: boolean;
  /** One line with the specifics, shown in messages while the alert fires. */
  summary?: string;
  /** What changed, one line each (the rewritten Via/Contact/SDP lines for an ALG). */
  evidence?: string[];
}

/** RuleMemory is what a stateful rule remembers per alert between results (persisted with the alert). */
export type RuleMemory = Record<string, unknown>;

export interface RuleContext {
  settings(rule: RuleName): RuleSettings;
  /** The memory of one alert key, created empty; mutate it in place (the engine saves it). */
  memory(rule: RuleName, target?: string, transport?: string): RuleMemory;
  /** The site's keep-alive probe interval in seconds, when its schedule says it plainly. */
  keepaliveIntervalSeconds: number | null;
}

export type ResultRule = (result: ProbeResultMessage, context: RuleContext) => Observation[];

/** pointOf returns the result's point of a measurement (a result carries one per measurement). */
export function pointOf(result: ProbeResultMessage, measurement: MetricPoint['measurement']): MetricPoint | undefined {
  return result.points.find((point) => point.measurement === measurement);
}

/** numberField reads a numeric field, undefined when absent. */
export function numberField(point: MetricPoint | undefined, name: string): number | undefined {
  const value = point?.fields[name];
  return typeof value === 'number' ? value : undefined;
}

/** countConsecutive bumps or resets a named counter in memory and returns it. */
export function countConsecutive(memory: RuleMemory, failed: boolean): number {
  const count = failed ? (typeof memory.consecutive === 'number' ? memory.consecutive : 0) + 1 : 0;
  memory.consecutive = count;
  return count;
}

/**
 * The built-in alert rules and their settings: defaults from the findings catalogue (severity,
 * thresholds), overridable per tenant and then per site (`algwatch-server rule set`). A site's
 * override wins over its tenant's, which wins over the default, setting by setting.
 */
import { z } from 'zod';
import { FINDINGS, THRESHOLDS, type FindingCode, type Severity } from '@algwatch/protocol/findings/index';

/** The codes the alert engine evaluates (the rest of the catalogue is check's and the status page's). */
export const RULE_NAMES = [
  'sip_alg_udp',
  'sip_alg_tcp',
  'sip_tls_intercepted',
  'sip_udp_blocked',
  'nat_mapping_worse',
  'public_address_changed',
  'port_preservation_lost',
  'udp_binding_short',
  'udp_binding_halved',
  'target_down',
  'target_error',
  'target_maintenance',
  'target_slow',
  'target_lossy',
  'sip_alg_on_path',
  'stun_failing',
  'agent_offline',
  'site_no_results',
] as const satisfies readonly FindingCode[];
export type RuleName = (typeof RULE_NAMES)[number];

export function isRuleName(name: string): name is RuleName {
  return (RULE_NAMES as readonly string[]).includes(name);
}

export interface RuleSettings {
  enabled: boolean;
  severity: Severity;
  /** How long the condition must hold before the alert fires (Alertmanager's `for`); 0 fires at once. */
  forMs: number;
  /** Consecutive clean observations that resolve a firing alert. */
  clearAfter: number;
  /**
   * The rule's number, null where the rule has none: consecutive failures (target_down,
   * stun_failing, sip_udp_blocked), milliseconds (target_slow), percent (target_lossy), seconds
   * (udp_binding_short; null = the site's keep-alive interval), ratio (udp_binding_halved), minutes
   * (site_no_results).
   */
  threshold: number | null;
  /** target_error / target_maintenance: the SIP status codes that count, e.g. "400-502,504-699". */
  codes: string | null;
  /** target_lossy: how many recent results the loss is averaged over. */
  window: number | null;
}

/** An override stores only the settings an operator changed. */
export const ruleOverrideSchema = z
  .object({
    enabled: z.boolean(),
    severity: z.enum(['critical', 'warning', 'info']),
    forMs: z.number().int().nonnegative(),
    clearAfter: z.number().int().min(1).max(100),
    threshold: z.number().nonnegative(),
    codes: z.string().refine((text) => parseStatusCodes(text) !== null, 'must be SIP status codes or ranges, e.g. 404,480-499'),
    window: z.number().int().min(1).max(1_000),
  })
  .partial()
  .strict();
export type RuleOverride = z.infer<typeof ruleOverrideSchema>;

const base = (code: RuleName, extra: Partial<RuleSettings> = {}): RuleSettings => ({
  enabled: true,
  severity: FINDINGS[code].defaultSeverity,
  forMs: 0,
  clearAfter: 1,
  threshold: null,
  codes: null,
  window: null,
  ...extra,
});

/**
 * DEFAULT_RULE_SETTINGS suit the domain: an ALG verdict is deterministic, so it fires on the first
 * detected result and resolves after 2 clean ones; slowness must last (keep-alives every 30 s).
 */
export const DEFAULT_RULE_SETTINGS: Readonly<Record<RuleName, RuleSettings>> = {
  sip_alg_udp: base('sip_alg_udp', { clearAfter: 2 }),
  sip_alg_tcp: base('sip_alg_tcp', { clearAfter: 2 }),
  sip_tls_intercepted: base('sip_tls_intercepted', { clearAfter: 2 }),
  sip_udp_blocked: base('sip_udp_blocked', { threshold: 2 }),
  nat_mapping_worse: base('nat_mapping_worse'),
  public_address_changed: base('public_address_changed'),
  port_preservation_lost: base('port_preservation_lost'),
  udp_binding_short: base('udp_binding_short'),
  udp_binding_halved: base('udp_binding_halved', { threshold: 0.5 }),
  target_down: base('target_down', { threshold: THRESHOLDS.targetDownConsecutive }),
  target_error: base('target_error', { codes: '400-502,504-699', clearAfter: 2 }),
  target_maintenance: base('target_maintenance', { codes: '503', clearAfter: 2 }),
  target_slow: base('target_slow', { threshold: THRESHOLDS.keepaliveRttSlowMs, forMs: 120_000, clearAfter: 2 }),
  target_lossy: base('target_lossy', { threshold: THRESHOLDS.keepaliveLossPct, window: 10, clearAfter: 2 }),
  sip_alg_on_path: base('sip_alg_on_path', { clearAfter: 2 }),
  stun_failing: base('stun_failing', { threshold: 3 }),
  agent_offline: base('agent_offline'),
  // Minutes without a result while an agent is connected. The default schedule sends a STUN
  // mapping every minute and keep-alives every 30 s; a site that turned those off raises it.
  site_no_results: base('site_no_results', { threshold: 15 }),
};

/** resolveRuleSettings applies the tenant's override, then the site's, to the rule's defaults. */
export function resolveRuleSettings(rule: RuleName, tenantOverride?: RuleOverride, siteOverride?: RuleOverride): RuleSettings {
  return { ...DEFAULT_RULE_SETTINGS[rule], ...tenantOverride, ...siteOverride };
}

/** parseStatusCodes reads "404,480-499" into ranges; null when malformed or outside 100-699. */
export function parseStatusCodes(text: string): Array<[number, number]> | null {
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
    if (!match) return null;
    const low = Number(match[1]);
    const high = Number(match[2] ?? match[1]);
    if (low < 100 || high > 699 || low > high) return null;
    ranges.push([low, high]);
  }
  return ranges;
}

/** statusCodeMatches tells whether a SIP status is in a codes setting (false for a null setting). */
export function statusCodeMatches(codes: string | null, status: number): boolean {
  if (codes === null) return false;
  return (parseStatusCodes(codes) ?? []).some(([low, high]) => status >= low && status <= high);
}

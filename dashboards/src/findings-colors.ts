/**
 * The dashboards' colours and thresholds, all taken from the findings catalogue
 * (@algwatch/protocol/findings/index): a panel colours a value the way `check`, the status page and
 * the alert rules grade it. Red is critical, orange a warning, blue info, green nothing wrong.
 */
import {
  ERROR_STATUS_FROM,
  FINDINGS,
  MAINTENANCE_STATUS_CODE,
  THRESHOLDS,
  bindingLifetimeSeverity,
  natMappingSeverity,
  rtpMosSeverity,
  sipStatusSeverity,
  type Severity,
} from '@algwatch/protocol/findings/index';
import { NAT_BEHAVIOURS } from '@algwatch/protocol/measurements';
import type { FieldDefaults, ValueMapping } from './grafana.js';
import { BLUE, GREEN, ORANGE, RED, thresholds } from './panels.js';

export const SEVERITY_COLORS: Readonly<Record<Severity, string>> = { critical: RED, warning: ORANGE, info: BLUE };

/** severityColor is a severity's colour, green for none. */
export function severityColor(severity: Severity | null): string {
  return severity === null ? GREEN : SEVERITY_COLORS[severity];
}

/**
 * Measurements are stored to 3 decimals (lifetimes are multiples of a step rounded to ms, RTTs are
 * rounded to µs), so this is the smallest value strictly above a threshold. Grafana colours a value
 * with the last step at or below it; a step placed here makes "at or below N" and "over N" exact.
 */
const STORED_RESOLUTION = 0.001;

function justAbove(value: number): number {
  return Math.round((value + STORED_RESOLUTION) * 1000) / 1000;
}

/** LIFETIME_THRESHOLDS colour udp_lifetime_s: critical at or below bindingCriticalSeconds, warning under bindingWarningSeconds. */
export const LIFETIME_THRESHOLDS: NonNullable<FieldDefaults['thresholds']> = (() => {
  const overCritical = justAbove(THRESHOLDS.bindingCriticalSeconds);
  return thresholds(
    severityColor(bindingLifetimeSeverity(0)),
    [overCritical, severityColor(bindingLifetimeSeverity(overCritical))],
    [THRESHOLDS.bindingWarningSeconds, severityColor(bindingLifetimeSeverity(THRESHOLDS.bindingWarningSeconds))],
  );
})();

/** RTT_THRESHOLDS colour a keep-alive RTT over keepaliveRttSlowMs as target_slow does. */
export const RTT_THRESHOLDS = thresholds(GREEN, [justAbove(THRESHOLDS.keepaliveRttSlowMs), severityColor(FINDINGS.target_slow.defaultSeverity)]);

/** LOSS_THRESHOLDS colour OPTIONS loss over keepaliveLossPct as target_lossy does (the alert rule judges it over a window). */
export const LOSS_THRESHOLDS = thresholds(GREEN, [justAbove(THRESHOLDS.keepaliveLossPct), severityColor(FINDINGS.target_lossy.defaultSeverity)]);

/** MOS_THRESHOLDS colour a test call's MOS as rtp_poor_mos grades it: critical under rtpMosCritical, warning under rtpMosPoor. */
export const MOS_THRESHOLDS = thresholds(
  severityColor(rtpMosSeverity(1)),
  [THRESHOLDS.rtpMosCritical, severityColor(rtpMosSeverity(THRESHOLDS.rtpMosCritical))],
  [THRESHOLDS.rtpMosPoor, severityColor(rtpMosSeverity(THRESHOLDS.rtpMosPoor))],
);

/** SIP_STATUS_THRESHOLDS colour a final response code: 2xx fine, error answers as target_error, 503 as target_maintenance. */
export const SIP_STATUS_THRESHOLDS = thresholds(
  GREEN,
  [ERROR_STATUS_FROM, severityColor(sipStatusSeverity(ERROR_STATUS_FROM))],
  [MAINTENANCE_STATUS_CODE, severityColor(sipStatusSeverity(MAINTENANCE_STATUS_CODE))],
  [MAINTENANCE_STATUS_CODE + 1, severityColor(sipStatusSeverity(MAINTENANCE_STATUS_CODE + 1))],
);

/** algMapping shows `alg_detected` as words, coloured as the finding it is on that transport (TLS: an interception). */
export function algMapping(transport: 'udp' | 'tcp' | 'tls'): ValueMapping {
  const severity = transport === 'tls' ? FINDINGS.sip_tls_intercepted.defaultSeverity : FINDINGS[`sip_alg_${transport}`].defaultSeverity;
  return {
    type: 'value',
    options: {
      true: { text: transport === 'tls' ? 'TLS intercepted' : 'ALG rewrites SIP', color: severityColor(severity), index: 0 },
      false: { text: 'clean', color: GREEN, index: 1 },
    },
  };
}

/** ALG_MAPPING is the mapping of a column that mixes transports: the ALG on UDP or TCP, the case that matters most. */
export const ALG_MAPPING: ValueMapping = algMapping('udp');

/** NAT_MAPPING_CODE_MAPPING turns `mapping_code` back into RFC 4787 names, coloured as nat_symmetric grades them. */
export const NAT_MAPPING_CODE_MAPPING: ValueMapping = {
  type: 'value',
  options: Object.fromEntries(
    NAT_BEHAVIOURS.map((behaviour, code) => [code, behaviour === 'unknown' ? { text: behaviour, index: code } : { text: behaviour, color: severityColor(natMappingSeverity(behaviour)), index: code }]),
  ),
};

/** NAT_FILTERING_CODE_MAPPING names `filtering_code` without colour: no finding grades filtering (most NATs filter, and that is fine). */
export const NAT_FILTERING_CODE_MAPPING: ValueMapping = {
  type: 'value',
  options: Object.fromEntries(NAT_BEHAVIOURS.map((behaviour, code) => [code, { text: behaviour, index: code }])),
};

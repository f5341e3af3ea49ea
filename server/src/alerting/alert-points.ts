/**
 * alertPoint is the time-series point of one alert state change (measurement `alert`, written by
 * the server only): tags rule, severity, state, tenant, site (+ target, transport, agent so two
 * alerts changing in the same millisecond stay two points); fields firing, summary, fingerprint.
 */
import type { StoredPoint } from '../storage/time-series.js';
import type { AlertRecord } from './lifecycle.js';

export function alertPoint(record: AlertRecord, state: 'pending' | 'firing' | 'resolved' | 'cleared', atMs: number): StoredPoint {
  return {
    measurement: 'alert',
    tags: {
      rule: record.rule,
      severity: record.severity,
      state,
      tenant: record.tenant,
      site: record.siteName,
      ...(record.target ? { target: record.target } : {}),
      ...(record.transport ? { transport: record.transport } : {}),
      ...(record.agent ? { agent: record.agent } : {}),
    },
    fields: { firing: state === 'firing', summary: record.summary.slice(0, 1_000), fingerprint: record.fingerprint },
    timestampMs: atMs,
  };
}

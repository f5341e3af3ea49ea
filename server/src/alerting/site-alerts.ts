/**
 * SiteAlerts is what the engine holds of one site: its alert records by fingerprint (loaded once
 * from the store, then kept in memory), the promise chain that serialises its evaluations, and what
 * changed since the last save.
 */
import type { Site } from '../relational/relational-store.js';
import { alertFingerprint } from './fingerprint.js';
import { newAlertRecord, type AlertRecord } from './lifecycle.js';
import type { Severity } from '@algwatch/protocol/findings/index';
import type { RuleName } from './rule-settings.js';

export class SiteAlerts {
  readonly records = new Map<string, AlertRecord>();
  /** Evaluations of this site run one after the other, in arrival order. */
  chain: Promise<void> = Promise.resolve();
  loaded = false;
  keepaliveIntervalSeconds: number | null = null;
  /** Records changed since the last save. */
  readonly dirty = new Set<string>();
  /** Each record's signature as last saved or loaded: a record whose signature moved is dirty. */
  private readonly saved = new Map<string, string>();
  /** Resolved alerts whose resolution has not been considered for a message yet. */
  readonly resolvedUnsent = new Set<string>();
  /** Fingerprints by rule/target/transport: hashing once per key, not once per result. */
  private readonly fingerprints = new Map<RuleName, Map<string, string>>();

  constructor(readonly site: Site) {}

  /** fingerprint of one of this site's alert keys. */
  fingerprint(rule: RuleName, target?: string, transport?: string): string {
    let byRule = this.fingerprints.get(rule);
    if (!byRule) {
      byRule = new Map();
      this.fingerprints.set(rule, byRule);
    }
    const key = transport === undefined ? (target ?? '') : `${target ?? ''}\u0000${transport}`;
    let fingerprint = byRule.get(key);
    if (fingerprint === undefined) {
      fingerprint = alertFingerprint({ rule, siteId: this.site.id, target, transport });
      byRule.set(key, fingerprint);
    }
    return fingerprint;
  }


  /** adopt takes a record loaded from the store (its state counts as saved). */
  adopt(record: AlertRecord): void {
    this.records.set(record.fingerprint, record);
    this.saved.set(record.fingerprint, signature(record));
  }

  /** markIfChanged marks the record dirty when it differs from what was last saved or loaded. */
  markIfChanged(record: AlertRecord): void {
    const now = signature(record);
    if (this.saved.get(record.fingerprint) === now) return;
    this.saved.set(record.fingerprint, now);
    this.dirty.add(record.fingerprint);
  }

  /** record returns the alert of a key, creating it inactive with `severity` when new. */
  record(rule: RuleName, severity: Severity, target?: string, transport?: string): AlertRecord {
    const fingerprint = this.fingerprint(rule, target, transport);
    let record = this.records.get(fingerprint);
    if (!record) {
      const { site } = this;
      record = newAlertRecord({ fingerprint, rule, tenant: site.tenantName, siteId: site.id, siteName: site.name, target, transport, agent: undefined, severity });
      this.records.set(fingerprint, record);
    }
    return record;
  }
}

/** signature is what decides whether a record changed enough to be saved. */
export function signature(record: AlertRecord): string {
  return `${record.state}|${record.cleanCount}|${record.pendingSince}|${record.severity}|${record.agent}|${record.summary}|${JSON.stringify(record.memory)}`;
}

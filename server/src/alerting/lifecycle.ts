/**
 * The alert lifecycle, Alertmanager's semantics: inactive -> pending (the rule's `for`) -> firing ->
 * resolved, one record per fingerprint. A firing alert resolves after the rule's `clearAfter` clean
 * observations in a row. Flap damping: an alert that started firing FLAP.threshold times within
 * FLAP.windowMs is flapping, and then resolves only after FLAP.holdMs without its condition, so a
 * router that drops in and out gives one alert, not a message every few minutes.
 *
 * Pure functions over a record and the clock; the engine persists what they change.
 */
import type { Severity } from '@algwatch/protocol/findings/index';
import type { RuleName, RuleSettings } from './rule-settings.js';
import type { Observation, RuleMemory } from './rules/observation.js';

export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

export interface AlertRecord {
  fingerprint: string;
  rule: RuleName;
  tenant: string;
  siteId: string;
  siteName: string;
  agent?: string | undefined;
  target?: string | undefined;
  transport?: string | undefined;
  severity: Severity;
  state: AlertState;
  /** When the condition started holding (pending since), ms; null when not pending. */
  pendingSince: number | null;
  /** When the current or last episode started firing, ms. */
  startsAt: number | null;
  /** When the last episode resolved, ms. */
  endsAt: number | null;
  /** Identifies one firing episode across server processes (notifications are keyed on it). */
  episode: string | null;
  /** Clean observations in a row while firing. */
  cleanCount: number;
  /** The last time the condition held, ms. */
  lastActiveAt: number | null;
  /** When recent episodes started, ms, for flap damping (oldest first, within FLAP.windowMs). */
  recentStarts: number[];
  summary: string;
  evidence: string[];
  /** The rule's own memory for this key (counters, last address); see rules/. */
  memory: RuleMemory;
}

export const FLAP = { windowMs: 3_600_000, threshold: 4, holdMs: 15 * 60_000 } as const;

/** A change worth persisting, notifying and writing to the time series; null when none. */
export type Transition = 'pending' | 'firing' | 'resolved' | 'cleared' | null;

/** isFlapping: the alert started firing FLAP.threshold times within the last FLAP.windowMs. */
export function isFlapping(record: AlertRecord, now: number): boolean {
  return record.recentStarts.filter((at) => now - at < FLAP.windowMs).length >= FLAP.threshold;
}

/** applyObservation folds one observation into the record and returns the state change it made. */
export function applyObservation(record: AlertRecord, observation: Observation, settings: RuleSettings, now: number): Transition {
  record.severity = settings.severity;
  if (observation.active) {
    record.lastActiveAt = now;
    record.cleanCount = 0;
    if (observation.summary !== undefined) record.summary = observation.summary;
    if (observation.evidence !== undefined) record.evidence = observation.evidence;
    if (record.state === 'firing') return null;
    if (record.state !== 'pending') {
      record.state = 'pending';
      record.pendingSince = now;
    }
    if (now - (record.pendingSince ?? now) >= settings.forMs) return fire(record, now);
    return record.pendingSince === now ? 'pending' : null;
  }
  if (record.state === 'pending') {
    record.state = 'inactive';
    record.pendingSince = null;
    return 'cleared';
  }
  if (record.state !== 'firing') return null;
  record.cleanCount += 1;
  return maybeResolve(record, settings, now);
}

/**
 * applyTick is the clock's turn: a flapping alert whose condition stayed away for FLAP.holdMs
 * resolves now, even if no further result arrives.
 */
export function applyTick(record: AlertRecord, settings: RuleSettings, now: number): Transition {
  if (record.state !== 'firing' || record.cleanCount === 0) return null;
  return maybeResolve(record, settings, now);
}

function fire(record: AlertRecord, now: number): Transition {
  record.state = 'firing';
  record.startsAt = now;
  record.endsAt = null;
  record.pendingSince = null;
  record.episode = `${record.fingerprint.slice(0, 16)}-${now}`;
  record.recentStarts = [...record.recentStarts.filter((at) => now - at < FLAP.windowMs), now];
  return 'firing';
}

function maybeResolve(record: AlertRecord, settings: RuleSettings, now: number): Transition {
  if (record.cleanCount < settings.clearAfter) return null;
  if (isFlapping(record, now) && now - (record.lastActiveAt ?? 0) < FLAP.holdMs) return null;
  record.state = 'resolved';
  record.endsAt = now;
  return 'resolved';
}

/** newAlertRecord is the record of a key never seen before (inactive). */
export function newAlertRecord(fields: Pick<AlertRecord, 'fingerprint' | 'rule' | 'tenant' | 'siteId' | 'siteName' | 'agent' | 'target' | 'transport' | 'severity'>): AlertRecord {
  return {
    ...fields,
    state: 'inactive',
    pendingSince: null,
    startsAt: null,
    endsAt: null,
    episode: null,
    cleanCount: 0,
    lastActiveAt: null,
    recentStarts: [],
    summary: '',
    evidence: [],
    memory: {},
  };
}

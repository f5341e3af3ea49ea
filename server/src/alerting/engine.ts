/**
 * AlertEngine evaluates the alert rules as results are stored (it subscribes to the ResultsFeed;
 * nothing polls the results), runs the lifecycle per fingerprint, groups per site, and sends each
 * notification once across every server process sharing the database: a notification goes out
 * only after its key was claimed in the notification log (unique primary key).
 *
 * Per site, evaluation is serialised on a promise chain, so results of one site are folded in
 * order and a site's alert rows are loaded once, lazily, from the relational store (state survives
 * restarts). Absence (agent offline) and the clocks (group timers, flap hold) run on timers.
 */
import type { Logger } from 'pino';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { StoredResults } from '../ingest/results-feed.js';
import type { RelationalStore, Site } from '../relational/relational-store.js';
import type { TimeSeriesStore } from '../storage/time-series.js';
import { alertPoint } from './alert-points.js';
import { AlertStore } from './alert-store.js';
import type { AlertDispatcher } from './dispatch.js';
import { SiteAlerts } from './site-alerts.js';
import { DEFAULT_GROUP_TIMING, GroupSchedule, type GroupTiming } from './group-schedule.js';
import { keepaliveIntervalSeconds } from './keepalive-interval.js';
import { applyObservation, applyTick, type AlertRecord, type Transition } from './lifecycle.js';
import { sendGroup } from './send-group.js';
import { listAgentsLastSeen } from './agents-last-seen.js';
import { offlineObservations } from './agent-offline.js';
import { lastStoredAt, quietSiteObservations } from './site-no-results.js';
import { resolveRuleSettings, type RuleName, type RuleOverride, type RuleSettings } from './rule-settings.js';
import { RuleOverrideStore } from './rule-store.js';
import { observeResult, type Observation, type RuleContext } from './rules/index.js';
import { SilenceStore, silenceMatches, type Silence } from './silence-store.js';

export const DEFAULT_AGENT_OFFLINE_AFTER_MS = 90_000;

export interface AlertEngineOptions {
  relational: RelationalStore;
  /** Where alert state changes go as `alert` points; none in tests that do not look. */
  timeSeries?: Pick<TimeSeriesStore, 'write'>;
  dispatcher: AlertDispatcher;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  timing?: GroupTiming;
  agentOfflineAfterMs?: number;
  /** --public-url: the base of the site links in messages. */
  publicUrl?: string | undefined;
  /** How often group timers and flap holds are checked (default 1 s). */
  tickMs?: number;
  /** How often silences and rule overrides are re-read (default 2 s: `silence add` works within ~5 s). */
  refreshMs?: number;
  /** How often agents' last heartbeats are checked (default 5 s). */
  offlineCheckMs?: number;
}

export class AlertEngine {
  private readonly store: AlertStore;
  private readonly silenceStore: SilenceStore;
  private readonly overrideStore: RuleOverrideStore;
  private readonly schedule: GroupSchedule;
  private readonly timing: GroupTiming;
  private readonly offlineAfterMs: number;
  /** When this server last stored a result of each site (the site_no_results rule). */
  private readonly lastResultHere = new Map<string, { site: Site; at: number; agentId: string }>();
  private readonly sites = new Map<string, SiteAlerts>();
  private readonly firing = new Map<string, AlertRecord>();
  private readonly flushes = new Map<string, Promise<void>>();
  private silences: Silence[] = [];
  private overrides = new Map<string, RuleOverride>();
  private resolvedSettings = new Map<string, Map<RuleName, RuleSettings>>();
  private readonly startedAt = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private offlineCheck: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: AlertEngineOptions) {
    const db = options.relational.db;
    this.store = new AlertStore(db);
    this.silenceStore = new SilenceStore(db);
    this.overrideStore = new RuleOverrideStore(db);
    this.timing = options.timing ?? DEFAULT_GROUP_TIMING;
    this.schedule = new GroupSchedule(this.timing);
    this.offlineAfterMs = options.agentOfflineAfterMs ?? DEFAULT_AGENT_OFFLINE_AFTER_MS;
  }

  /** start reads silences and overrides and starts the timers; rejects when the database does not answer. */
  static async start(options: AlertEngineOptions): Promise<AlertEngine> {
    const engine = new AlertEngine(options);
    await engine.refresh();
    engine.every(options.tickMs ?? 1_000, () => engine.tick());
    engine.every(options.refreshMs ?? 2_000, () => void engine.refresh().catch((err: Error) => engine.options.log.warn({ err: err.message }, 'alerting: could not re-read silences and rule overrides')));
    engine.every(options.offlineCheckMs ?? 5_000, () => {
      engine.offlineCheck = engine.offlineCheck.then(() => engine.checkOfflineAgents()).catch((err: Error) => engine.options.log.warn({ err: err.message }, 'alerting: agent offline check failed'));
    });
    engine.every(2_000, () => void engine.saveDirty());
    return engine;
  }

  /** onResults is the ResultsFeed listener: it queues the batch for its site and returns at once. */
  readonly onResults = (batch: StoredResults): void => {
    if (this.closed) return;
    const now = Date.now();
    this.lastResultHere.set(batch.site.id, { site: batch.site, at: now, agentId: batch.agentId });
    this.enqueue(batch.site, async (state) => {
      await this.evaluate(state, batch.agentId, batch.results, now);
      // Results again: a site_no_results alert of the site resolves (only a firing one needs a word).
      const quiet = state.records.get(state.fingerprint('site_no_results'));
      if (quiet && quiet.state !== 'resolved') {
        await this.observe(state, quiet, { rule: 'site_no_results', active: false }, batch.agentId, now);
        state.markIfChanged(quiet);
      }
    });
  };

  /** idle resolves once every queued evaluation and running flush has finished (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const pending = [...[...this.sites.values()].map((s) => s.chain), ...this.flushes.values(), this.offlineCheck];
      await Promise.all(pending);
      const again = [...[...this.sites.values()].map((s) => s.chain), ...this.flushes.values(), this.offlineCheck];
      if (again.every((p, i) => p === pending[i]) && again.length === pending.length) return;
    }
  }

  /** close stops the timers, lets queued work finish and saves what changed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.idle();
    await this.saveDirty();
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private siteState(site: Site): SiteAlerts {
    let state = this.sites.get(site.id);
    if (!state) {
      state = new SiteAlerts(site);
      this.sites.set(site.id, state);
    }
    return state;
  }


  private enqueue(site: Site, work: (state: SiteAlerts) => Promise<void>): void {
    const state = this.siteState(site);
    state.chain = state.chain
      .then(async () => {
        if (!state.loaded) await this.load(state);
        await work(state);
      })
      .catch((err: Error) => this.options.log.error({ site: site.name, tenant: site.tenantName, err: err.message }, 'alerting: evaluation failed'));
  }

  private async load(state: SiteAlerts): Promise<void> {
    const [records, config] = await Promise.all([this.store.loadSiteAlerts(state.site.id), this.options.relational.getAgentConfig(state.site.id)]);
    for (const record of records) {
      state.adopt(record);
      if (record.state === 'firing') {
        this.firing.set(record.fingerprint, record);
        // A firing alert may not have been announced before a restart: the claim decides.
        this.schedule.changed(state.site.id, Date.now());
      }
    }
    state.keepaliveIntervalSeconds = keepaliveIntervalSeconds(config.schedule.keepalive);
    state.loaded = true;
  }

  private settingsFor(rule: RuleName, site: Site): RuleSettings {
    // Resolved once per site and rule until the next refresh: this runs several times per result.
    let bySite = this.resolvedSettings.get(site.id);
    if (!bySite) {
      bySite = new Map();
      this.resolvedSettings.set(site.id, bySite);
    }
    let settings = bySite.get(rule);
    if (!settings) {
      settings = resolveRuleSettings(rule, this.overrides.get(`tenant ${site.tenantName} ${rule}`), this.overrides.get(`site ${site.id} ${rule}`));
      bySite.set(rule, settings);
    }
    return settings;
  }


  private recordFor(state: SiteAlerts, rule: RuleName, target?: string, transport?: string): AlertRecord {
    return state.record(rule, this.settingsFor(rule, state.site).severity, target, transport);
  }


  private async evaluate(state: SiteAlerts, agentId: string, results: readonly ProbeResultMessage[], now: number): Promise<void> {
    // One context per batch; records the rules touched are checked for changes once, at the end.
    const touched = new Set<AlertRecord>();
    const context: RuleContext = {
      settings: (rule) => this.settingsFor(rule, state.site),
      memory: (rule, target, transport) => {
        const record = this.recordFor(state, rule, target, transport);
        touched.add(record);
        return record.memory;
      },
      keepaliveIntervalSeconds: state.keepaliveIntervalSeconds,
    };
    for (const result of results) {
      for (const observation of observeResult(result, context)) {
        const record = this.recordFor(state, observation.rule, observation.target, observation.transport);
        touched.add(record);
        await this.observe(state, record, observation, agentId, now);
      }
    }
    for (const record of touched) state.markIfChanged(record);
  }


  private async observe(state: SiteAlerts, record: AlertRecord, observation: Observation, agentId: string, now: number): Promise<void> {
    if (observation.active || record.state === 'firing') record.agent = agentId;
    const transition = applyObservation(record, observation, this.settingsFor(record.rule, state.site), now);
    if (transition) await this.transitioned(state, record, transition, now);
  }

  private async transitioned(state: SiteAlerts, record: AlertRecord, transition: NonNullable<Transition>, now: number): Promise<void> {
    const key = state.site.id;
    if (transition === 'firing') {
      await this.store.recordFiring(record);
      this.firing.set(record.fingerprint, record);
      state.resolvedUnsent.delete(record.fingerprint);
      this.flushBy(this.schedule.changed(key, now));
    } else if (transition === 'resolved') {
      await this.store.saveAlerts([record]);
      this.firing.delete(record.fingerprint);
      state.resolvedUnsent.add(record.fingerprint);
      this.flushBy(this.schedule.changed(key, now));
    } else {
      state.dirty.add(record.fingerprint);
    }
    const at = new Date(now).toISOString();
    await this.store.appendHistory([
      {
        fingerprint: record.fingerprint,
        rule: record.rule,
        severity: record.severity,
        state: transition,
        tenant: record.tenant,
        siteName: record.siteName,
        target: record.target ?? null,
        transport: record.transport ?? null,
        summary: record.summary,
        at,
      },
    ]);
    this.options.timeSeries?.write([alertPoint(record, transition, now)]).catch((err: Error) => this.options.log.warn({ err: err.message }, 'alerting: alert point not written'));
    this.options.log.info({ tenant: record.tenant, site: record.siteName, rule: record.rule, target: record.target, transport: record.transport, state: transition }, 'alert state changed');
  }

  private async refresh(): Promise<void> {
    const [silences, overrides] = await Promise.all([this.silenceStore.listSilences(new Date().toISOString()), this.overrideStore.listOverrides()]);
    this.silences = silences;
    this.overrides = new Map(overrides.map((o) => [`${o.scope} ${o.scopeRef} ${o.rule}`, o.override]));
    this.resolvedSettings = new Map();
  }

  /**
   * flushBy makes sure due groups are flushed by `dueAt` even when that is sooner than the next
   * tick (group wait 0: a message leaves as soon as the result that raised it is evaluated).
   */
  private flushBy(dueAt: number): void {
    const delay = dueAt - Date.now();
    if (this.closed || delay >= (this.options.tickMs ?? 1_000)) return;
    setTimeout(() => this.flushDue(Date.now()), Math.max(0, delay)).unref();
  }

  private tick(): void {
    const now = Date.now();
    for (const record of this.firing.values()) {
      const state = this.sites.get(record.siteId);
      if (!state) continue;
      if (applyTick({ ...record }, this.settingsFor(record.rule, state.site), now) === null) continue;
      this.enqueue(state.site, async () => {
        const transition = applyTick(record, this.settingsFor(record.rule, state.site), now);
        if (transition) await this.transitioned(state, record, transition, now);
      });
    }
    this.flushDue(now);
  }

  private flushDue(now: number): void {
    if (this.closed) return;
    for (const key of this.schedule.due(now)) {
      if (this.flushes.has(key)) continue;
      const flush = this.flush(key, now)
        .catch((err: Error) => this.options.log.error({ err: err.message }, 'alerting: notification failed'))
        .finally(() => this.flushes.delete(key));
      this.flushes.set(key, flush);
    }
  }

  private muted(record: AlertRecord, now: number): boolean {
    return this.silences.some((silence) => silenceMatches(silence, record, now));
  }

  /**
   * flush takes the group's firing alerts (as stored: another server may have moved them on) and
   * its new resolutions, and hands those no silence covers to sendGroup.
   */
  private async flush(siteId: string, now: number): Promise<void> {
    const state = this.sites.get(siteId);
    if (!state) return this.schedule.flushed(siteId, now, false);
    // Results already queued for the site go first: alerts raised by one batch share a message.
    await state.chain;
    let firing = [...state.records.values()].filter((r) => r.state === 'firing' && r.episode !== null);
    if (firing.length > 0) {
      // Another server sharing the database may have resolved an alert this one still holds as
      // firing (its agent moved there): take the stored state instead of announcing it again.
      const stored = await this.store.storedStates(firing.map((r) => r.fingerprint));
      for (const record of firing) {
        const current = stored.get(record.fingerprint);
        if (current && (current.state !== 'firing' || current.episode !== record.episode)) {
          Object.assign(record, (await this.store.loadSiteAlerts(state.site.id)).find((r) => r.fingerprint === record.fingerprint) ?? {});
          if (record.state !== 'firing') this.firing.delete(record.fingerprint);
        }
      }
      firing = firing.filter((r) => r.state === 'firing');
    }
    const resolved = [...state.resolvedUnsent].flatMap((fp) => {
      const record = state.records.get(fp);
      return record && record.state === 'resolved' && record.episode !== null ? [record] : [];
    });
    state.resolvedUnsent.clear();

    const muted = (record: AlertRecord) => this.muted(record, now);
    this.schedule.flushed(siteId, now, firing.length > 0, firing.some(muted));
    const deps = { store: this.store, dispatcher: this.options.dispatcher, log: this.options.log, publicUrl: this.options.publicUrl, repeatIntervalMs: this.timing.repeatIntervalMs };
    await sendGroup(deps, state.site, firing.filter((r) => !muted(r)), resolved.filter((r) => !muted(r)), now);
  }

  private async checkOfflineAgents(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    const firing = (site: Site, agentId: string) => {
      const state = this.sites.get(site.id);
      return state?.records.get(state.fingerprint('agent_offline', agentId))?.state === 'firing';
    };
    const check = { now, startedAt: this.startedAt, offlineAfterMs: this.offlineAfterMs, firing };
    const agents = await listAgentsLastSeen(this.options.relational.db);
    const quiet = await quietSiteObservations(this.lastResultHere, agents, {
      now,
      offlineAfterMs: this.offlineAfterMs,
      quietAfterMs: (site) => {
        const settings = this.settingsFor('site_no_results', site);
        return settings.enabled && settings.threshold !== null ? settings.threshold * 60_000 : null;
      },
      lastStoredAt: (siteId) => lastStoredAt(this.options.relational.db, siteId),
    });
    for (const { site, observation } of quiet) {
      const agentId = this.lastResultHere.get(site.id)?.agentId ?? '';
      this.enqueue(site, async (state) => {
        const record = this.recordFor(state, 'site_no_results');
        await this.observe(state, record, observation, agentId, now);
        state.markIfChanged(record);
      });
    }
    for (const { agent, observation } of offlineObservations(agents, check)) {
      if (!this.settingsFor('agent_offline', agent.site).enabled) continue;
      this.enqueue(agent.site, async (state) => {
        const record = this.recordFor(state, 'agent_offline', agent.agentId);
        await this.observe(state, record, observation, agent.agentId, now);
        state.markIfChanged(record);
      });
    }
  }

  private async saveDirty(): Promise<void> {
    const records: AlertRecord[] = [];
    for (const state of this.sites.values()) {
      for (const fp of state.dirty) {
        const record = state.records.get(fp);
        if (record) records.push(record);
      }
      state.dirty.clear();
    }
    if (records.length === 0) return;
    await this.store.saveAlerts(records).catch((err: Error) => this.options.log.warn({ err: err.message, alerts: records.length }, 'alerting: could not save alert state'));
  }
}

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore, Site } from '../relational/relational-store.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import type { StoredPoint } from '../storage/time-series.js';
import { AlertEngine, type AlertEngineOptions } from './engine.js';
import { AlertStore } from './alert-store.js';
import { SilenceStore } from './silence-store.js';
import { RuleOverrideStore } from './rule-store.js';
import { sipAlgResult } from './test-results.js';
import { FAST_TIMING, recordingDispatcher, waitFor, type RecordingDispatcher } from './test-engine.js';

const log = pino({ level: 'silent' });

describe.each(TEST_DATABASES)('alert engine on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let relational: RelationalStore;
  const engines: AlertEngine[] = [];
  const stores: RelationalStore[] = [];

  beforeAll(async () => {
    database = await createDatabase();
    relational = await openRelationalStore(database.options);
  });
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await relational?.close();
    await database?.drop();
  });

  async function start(dispatcher: RecordingDispatcher, options: Partial<AlertEngineOptions> = {}, store = relational): Promise<AlertEngine> {
    const engine = await AlertEngine.start({ relational: store, dispatcher, log, timing: FAST_TIMING, tickMs: 20, refreshMs: 50, ...options });
    engines.push(engine);
    return engine;
  }
  const deliver = (engine: AlertEngine, site: Site, results: ReturnType<typeof sipAlgResult>[], agentId = 'agent-1') => engine.onResults({ site, agentId, results });

  it('sends one message for an ALG on UDP and TCP naming the site and the rewrites, and one resolution after 2 clean runs', async () => {
    const { site } = await relational.createSite('alg-hq', 'acme');
    const dispatcher = recordingDispatcher();
    const points: StoredPoint[] = [];
    const engine = await start(dispatcher, { timeSeries: { write: async (p) => void points.push(...p) } });

    deliver(engine, site, [sipAlgResult('udp', 'detected'), sipAlgResult('tcp', 'detected'), sipAlgResult('tls', 'clean')]);
    await waitFor('the firing message', () => dispatcher.sent.length === 1);
    const [firing] = dispatcher.sent;
    expect(firing).toMatchObject({ status: 'firing', tenant: 'acme', site: 'alg-hq', groupKey: 'acme/alg-hq' });
    expect(firing?.alerts.map((a) => a.rule).sort()).toEqual(['sip_alg_tcp', 'sip_alg_udp']);
    expect(firing?.alerts[0]).toMatchObject({ agent: 'agent-1', state: 'firing', severity: 'critical' });
    expect(firing?.alerts[0]?.evidence.join('\n')).toContain('SIP/2.0/UDP 203.0.113.1:5060');

    // Still detected: no new message. One clean run: still firing. The second: resolved.
    deliver(engine, site, [sipAlgResult('udp', 'detected'), sipAlgResult('tcp', 'detected')]);
    deliver(engine, site, [sipAlgResult('udp', 'clean'), sipAlgResult('tcp', 'clean')]);
    await engine.idle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(dispatcher.sent).toHaveLength(1);
    deliver(engine, site, [sipAlgResult('udp', 'clean'), sipAlgResult('tcp', 'clean')]);
    await waitFor('the resolution', () => dispatcher.sent.length === 2);
    expect(dispatcher.sent[1]).toMatchObject({ status: 'resolved', threadId: firing?.threadId });
    expect(dispatcher.sent[1]?.alerts.map((a) => a.state)).toEqual(['resolved', 'resolved']);

    // The time series got each state change.
    expect(points.map((p) => `${p.tags.rule} ${p.tags.state}`).sort()).toEqual(['sip_alg_tcp firing', 'sip_alg_tcp resolved', 'sip_alg_udp firing', 'sip_alg_udp resolved']);
    expect(points[0]).toMatchObject({ measurement: 'alert', tags: { tenant: 'acme', site: 'alg-hq', severity: 'critical' } });
    const history = await new AlertStore(relational.db).listHistory('1970-01-01', 100);
    expect(history.filter((h) => h.siteName === 'alg-hq').map((h) => h.state).sort()).toEqual(['firing', 'firing', 'resolved', 'resolved']);
  });

  it('keeps a firing alert across a restart: no second message, and the resolution still goes out', async () => {
    const { site } = await relational.createSite('restart-hq', 'acme');
    const dispatcher = recordingDispatcher();
    const first = await start(dispatcher);
    deliver(first, site, [sipAlgResult('udp', 'detected')]);
    await waitFor('the firing message', () => dispatcher.sent.length === 1);
    await first.close();

    const second = await start(dispatcher);
    deliver(second, site, [sipAlgResult('udp', 'detected')]);
    deliver(second, site, [sipAlgResult('udp', 'clean')]);
    deliver(second, site, [sipAlgResult('udp', 'clean')]);
    await waitFor('the resolution', () => dispatcher.sent.length === 2);
    expect(dispatcher.sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
  });

  it('sends each notification once when two engines on one database see the same alert', async () => {
    const { site } = await relational.createSite('twice-hq', 'acme');
    const other = await openRelationalStore(database.options);
    stores.push(other);
    const dispatchers = [recordingDispatcher(), recordingDispatcher()];
    const pair = [await start(dispatchers[0] as RecordingDispatcher), await start(dispatchers[1] as RecordingDispatcher, {}, other)];
    const sent = () => dispatchers.flatMap((d) => d.sent);
    for (const engine of pair) deliver(engine, site, [sipAlgResult('udp', 'detected')]);
    await waitFor('a firing message', () => sent().length >= 1);
    for (const engine of pair) for (let i = 0; i < 2; i++) deliver(engine, site, [sipAlgResult('udp', 'clean')]);
    await waitFor('a resolution', () => sent().some((n) => n.status === 'resolved'));
    for (const engine of pair) await engine.idle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sent().map((n) => n.status).sort()).toEqual(['firing', 'resolved']);
  });

  it('does not repeat an alert that another engine on the database resolved', async () => {
    const { site } = await relational.createSite('moved-hq', 'acme');
    const other = await openRelationalStore(database.options);
    stores.push(other);
    const dispatcher = recordingDispatcher();
    const repeating = { ...FAST_TIMING, repeatIntervalMs: 300 };
    const [a, b] = [await start(dispatcher, { timing: repeating }), await start(dispatcher, { timing: repeating }, other)];
    deliver(a as AlertEngine, site, [sipAlgResult('udp', 'detected')]);
    deliver(b as AlertEngine, site, [sipAlgResult('udp', 'detected')]);
    await waitFor('the firing message', () => dispatcher.sent.length === 1);
    // The agent now reports to engine a only: it resolves there, while b still holds the alert as firing.
    for (let i = 0; i < 2; i++) deliver(a as AlertEngine, site, [sipAlgResult('udp', 'clean')]);
    await waitFor('the resolution', () => dispatcher.sent.some((n) => n.status === 'resolved'));
    // Past b's repeat interval (twice): b must not announce the resolved alert again. (A repeat
    // before the resolution, on a slow machine, would be right: the alert still fired then.)
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const statuses = dispatcher.sent.map((n) => n.status);
    expect(statuses[0]).toBe('firing');
    expect(statuses.slice(statuses.indexOf('resolved'))).toEqual(['resolved']);
  });

  it('holds messages back while a silence covers the site and sends them once it is expired', async () => {
    const { site } = await relational.createSite('quiet-hq', 'acme');
    const silences = new SilenceStore(relational.db);
    const silence = await silences.addSilence({
      tenant: null,
      siteId: site.id,
      siteName: site.name,
      rule: null,
      startsAt: new Date(Date.now() - 1_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'router swap',
    });
    const dispatcher = recordingDispatcher();
    const engine = await start(dispatcher);
    deliver(engine, site, [sipAlgResult('udp', 'detected')]);
    await engine.idle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(dispatcher.sent).toEqual([]);

    expect(await silences.expireSilence(silence.id)).toBe(true);
    await waitFor('the message after the silence', () => dispatcher.sent.length === 1);
    expect(dispatcher.sent[0]?.alerts.map((a) => a.rule)).toEqual(['sip_alg_udp']);
  });

  it('follows a rule override made while it runs: a rule switched off for a site raises nothing there', async () => {
    const { site } = await relational.createSite('override-hq', 'acme');
    const dispatcher = recordingDispatcher();
    const engine = await start(dispatcher);
    await new RuleOverrideStore(relational.db).setOverride('site', site.id, 'sip_alg_udp', { enabled: false });
    // The engine re-reads overrides every refreshMs (50 ms here).
    await new Promise((resolve) => setTimeout(resolve, 300));
    deliver(engine, site, [sipAlgResult('udp', 'detected'), sipAlgResult('tcp', 'detected')]);
    await waitFor('the TCP message', () => dispatcher.sent.length === 1);
    await engine.idle();
    expect(dispatcher.sent[0]?.alerts.map((a) => a.rule)).toEqual(['sip_alg_tcp']);
  });

  it('records a failed delivery so `alerts` can show it', async () => {
    const { site } = await relational.createSite('failing-hq', 'acme');
    const dispatcher = recordingDispatcher();
    dispatcher.failWith = 'smtp://mail.example:25 refused the connection';
    const engine = await start(dispatcher);
    deliver(engine, site, [sipAlgResult('udp', 'detected')]);
    const store = new AlertStore(relational.db);
    await waitFor('the failure in the notification log', async () =>
      (await store.recentNotifications('1970-01-01')).some((n) => n.siteName === 'failing-hq' && n.failure !== null),
    );
    const [entry] = (await store.recentNotifications('1970-01-01')).filter((n) => n.siteName === 'failing-hq');
    expect(entry).toMatchObject({ deliveredAt: null, failure: 'ops-mail: smtp://mail.example:25 refused the connection' });
  });

  it('raises agent offline for an agent without heartbeat, not during the grace after a start, and resolves it on the next heartbeat', async () => {
    const { site } = await relational.createSite('offline-hq', 'acme');
    const heartbeat = { at: Date.now(), outboxDepth: 0, rssBytes: 1, uptimeS: 1 };
    await relational.recordAgentHello(site.id, { agentId: 'gone', hostname: 'pbx-box', version: '1' });
    await relational.recordAgentHello(site.id, { agentId: 'back', hostname: 'desk', version: '1' });
    await relational.db.updateTable('agents').set({ last_seen_at: new Date(Date.now() - 3_600_000).toISOString() }).where('site_id', '=', site.id).execute();
    const dispatcher = recordingDispatcher();
    await start(dispatcher, { agentOfflineAfterMs: 1_000, offlineCheckMs: 50 });
    // "back" reconnects within the grace period, as agents do after a server restart, and keeps
    // sending heartbeats.
    await relational.recordHeartbeat(site.id, 'back', heartbeat);
    const beating = setInterval(() => void relational.recordHeartbeat(site.id, 'back', heartbeat), 100);
    try {
      await waitFor('the offline message', () => dispatcher.sent.length === 1);
    } finally {
      clearInterval(beating);
    }
    expect(dispatcher.sent[0]?.alerts.map((a) => [a.rule, a.target, a.agent])).toEqual([['agent_offline', 'gone', 'gone']]);
    expect(dispatcher.sent[0]?.alerts[0]?.summary).toContain('pbx-box');

    await relational.recordHeartbeat(site.id, 'gone', heartbeat);
    await waitFor('the resolution', () => dispatcher.sent.length === 2);
    expect(dispatcher.sent[1]).toMatchObject({ status: 'resolved' });
    expect(dispatcher.sent.flatMap((n) => n.alerts.map((a) => a.target))).not.toContain('back');
  });

  it('raises site_no_results for a site whose agent beats but sends no results, and resolves it when results come again', async () => {
    const { site } = await relational.createSite('no-results-hq', 'acme');
    const heartbeat = { at: Date.now(), outboxDepth: 0, rssBytes: 1, uptimeS: 1 };
    await relational.recordAgentHello(site.id, { agentId: 'desk', hostname: 'desk-pc', version: '1' });
    // 0.01 minutes: the rule's threshold is in minutes (15 by default).
    await new RuleOverrideStore(relational.db).setOverride('site', site.id, 'site_no_results', { threshold: 0.01 });
    const beating = setInterval(() => void relational.recordHeartbeat(site.id, 'desk', heartbeat), 100);
    const dispatcher = recordingDispatcher();
    try {
      const engine = await start(dispatcher, { agentOfflineAfterMs: 5_000, offlineCheckMs: 50 });
      deliver(engine, site, [sipAlgResult('udp', 'clean')], 'desk');
      await waitFor('the no-results message', () => dispatcher.sent.length === 1);
      expect(dispatcher.sent[0]?.alerts.map((a) => [a.rule, a.agent, a.severity])).toEqual([['site_no_results', 'desk', 'warning']]);
      expect(dispatcher.sent[0]?.alerts[0]?.summary).toMatch(/^no probe result from no-results-hq since .* while its agent sends heartbeats$/);
      deliver(engine, site, [sipAlgResult('udp', 'clean')], 'desk');
      await waitFor('the resolution', () => dispatcher.sent.length === 2);
      expect(dispatcher.sent[1]).toMatchObject({ status: 'resolved' });
    } finally {
      clearInterval(beating);
    }
  });

  it('says nothing of a quiet site whose agents are offline (agent_offline speaks for them)', async () => {
    const { site } = await relational.createSite('dark-hq', 'acme');
    await relational.recordAgentHello(site.id, { agentId: 'desk', hostname: 'desk-pc', version: '1' });
    await relational.db.updateTable('agents').set({ last_seen_at: new Date(Date.now() - 3_600_000).toISOString() }).where('site_id', '=', site.id).execute();
    await new RuleOverrideStore(relational.db).setOverride('site', site.id, 'site_no_results', { threshold: 0.001 });
    await new RuleOverrideStore(relational.db).setOverride('site', site.id, 'agent_offline', { enabled: false });
    const dispatcher = recordingDispatcher();
    const engine = await start(dispatcher, { agentOfflineAfterMs: 1_000, offlineCheckMs: 50 });
    deliver(engine, site, [sipAlgResult('udp', 'clean')], 'desk');
    await new Promise((resolve) => setTimeout(resolve, 600));
    await engine.idle();
    expect(dispatcher.sent.flatMap((n) => n.alerts.map((a) => a.rule))).not.toContain('site_no_results');
  });
});

import { probeKeyOfToken } from '@algwatch/protocol/probe-signature';
import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Server } from 'socket.io';
import { io as connect, Manager, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AGENT_CONNECT_ERRORS,
  AGENT_NAMESPACE,
  DEFAULT_SCHEDULE,
  MAX_MESSAGE_BYTES,
  MAX_RESULTS_PER_BATCH,
  PROTOCOL_VERSION,
  type AgentConfig,
  helloAckSchema,
  resultsAckSchema,
  type AgentToServerEvents,
  type ProbeResultMessage,
  type RunNow,
  type ServerToAgentEvents,
} from '@algwatch/protocol/events';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore, Site } from '../relational/relational-store.js';
import { createSqliteTestDatabase, type TestDatabase } from '../relational/test-databases.js';
import type { RangeQuery, StoredPoint, TimeSeriesStore } from '../storage/time-series.js';
import { watchTokenRevocations } from './revocation-watch.js';
import { ROOT_NAMESPACE_REFUSED } from './handshake-guard.js';
import { AGENT_SERVER_OPTIONS, attachAgentGateway, type AgentGateway, type AgentGatewayDeps } from './agent-gateway.js';

/** A real TimeSeriesStore kept in memory: stores a repeated point (same series and time) once. */
class MemorySeriesStore implements TimeSeriesStore {
  readonly points = new Map<string, StoredPoint>();
  async write(points: StoredPoint[]): Promise<void> {
    for (const point of points) {
      const tags = Object.entries(point.tags).sort(([a], [b]) => a.localeCompare(b));
      this.points.set(JSON.stringify([point.measurement, tags, point.timestampMs]), point);
    }
  }
  async query(measurement: StoredPoint['measurement'], query: RangeQuery): Promise<StoredPoint[]> {
    return [...this.points.values()]
      .filter((p) => p.measurement === measurement && p.timestampMs >= query.fromMs && p.timestampMs < query.toMs)
      .filter((p) => Object.entries({ ...query.filter, ...(query.site ? { site: query.site } : {}) }).every(([tag, value]) => p.tags[tag] === value))
      .sort((a, b) => a.timestampMs - b.timestampMs);
  }
  async close(): Promise<void> {}
}

type AgentClient = ClientSocket<ServerToAgentEvents, AgentToServerEvents>;

interface Fixture {
  http: HttpServer;
  io: Server;
  gateway: AgentGateway;
  url: string;
  series: MemorySeriesStore;
  fannedOut: Array<{ site: Site; results: ProbeResultMessage[]; agentId: string }>;
  logLines: Array<{ msg: string; reason?: string }>;
}

let database: TestDatabase;
let relational: RelationalStore;
let acme: { site: Site; token: string };
let other: { site: Site; token: string };
const clients: AgentClient[] = [];
const fixtures: Fixture[] = [];

beforeAll(async () => {
  database = await createSqliteTestDatabase();
  relational = await openRelationalStore(database.options);
  acme = await relational.createSite('acme-hq', 'acme');
  other = await relational.createSite('globex-hq', 'globex');
  await relational.setSiteTargets(acme.site.id, [{ name: 'pbx', host: '203.0.113.10', port: 5060, transport: 'udp', keepalive: 'both' }]);
});

afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

afterAll(async () => {
  for (const fixture of fixtures) {
    await fixture.io.close();
    fixture.http.closeAllConnections();
  }
  await relational?.close();
  await database?.drop();
});

async function startGateway(overrides: Partial<AgentGatewayDeps> = {}): Promise<Fixture> {
  const logLines: Fixture['logLines'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  const series = new MemorySeriesStore();
  const fannedOut: Fixture['fannedOut'] = [];
  const http = createServer();
  const io = new Server(http, AGENT_SERVER_OPTIONS);
  const gateway = attachAgentGateway(io, {
    relational,
    timeSeries: series,
    reflectorHost: 'reflector.algwatch.test',
    log: pino({ level: 'info' }, sink),
    onResults: (site, results, agentId) => fannedOut.push({ site, results, agentId }),
    ...overrides,
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const fixture = { http, io, gateway, url: `http://127.0.0.1:${port}${AGENT_NAMESPACE}`, series, fannedOut, logLines };
  fixtures.push(fixture);
  return fixture;
}

/** agent connects a socket.io client; localAddress (another loopback address) makes it another host. */
function agent(fixture: Fixture, auth: object, localAddress?: string): AgentClient {
  const client: AgentClient = connect(fixture.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true, ...(localAddress ? { localAddress } : {}) });
  clients.push(client);
  return client;
}

/** connected resolves once the server admitted the client, or rejects with the server's refusal. */
function connected(client: AgentClient): Promise<AgentClient> {
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('connect_error', (error) => reject(error));
  });
}

/** probePoints are the stored points the probes sent, without the probe_run point ingest adds per result. */
const probePoints = (fixture: Fixture) => [...fixture.series.points.values()].filter((point) => point.measurement !== 'probe_run');

const connectAgent = (fixture: Fixture, token = acme.token, agentId = 'pbx-box') => connected(agent(fixture, { token, agentId }));

function result(overrides: Partial<ProbeResultMessage> = {}): ProbeResultMessage {
  return {
    id: randomUUID(),
    probe: 'stun-mapping',
    target: 'reflector',
    startedAt: 1_700_000_000_000 + Math.floor(Math.random() * 1e9),
    durationMs: 12,
    success: true,
    points: [
      {
        measurement: 'stun_mapping',
        tags: { target: 'reflector', result: 'success' },
        fields: { nat_present: true, public_address: '203.0.113.5', public_port: 40000, port_preserved: false, rtt_ms: 12.5 },
      },
    ],
    detail: {},
    ...overrides,
  };
}

const sendResults = (client: AgentClient, payload: unknown) =>
  client.timeout(5000).emitWithAck('results', payload as { results: ProbeResultMessage[] });

describe('agent gateway', () => {
  it('answers a good token`s hello with its site and the site`s agent config', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    const reply = await client.timeout(5000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0', hostname: 'pbx-box.local' });
    expect(reply).toEqual({
      ok: true,
      siteId: acme.site.id,
      siteName: 'acme-hq',
      config: {
        schedule: DEFAULT_SCHEDULE,
        targets: [{ name: 'pbx', host: '203.0.113.10', port: 5060, transport: 'udp', keepalive: 'both' }],
        reflectorHost: 'reflector.algwatch.test',
        // The key the agent's own token derives: the reflector derives the same from the stored hash.
        probeKey: { id: probeKeyOfToken(acme.token).id, secret: probeKeyOfToken(acme.token).secret.toString('base64url') },
      },
    });
    expect(helloAckSchema.safeParse(reply).success).toBe(true);
    expect((await relational.listAgents(acme.site.id)).map((a) => a.hostname)).toContain('pbx-box.local');
  });

  it('refuses a wrong token, a missing token and a revoked token with "invalid agent token"', async () => {
    const fixture = await startGateway();
    const revoked = await relational.createSite('revoked-site', 'acme');
    await relational.revokeSiteTokens(revoked.site.id);
    const attempts = [
      connected(agent(fixture, { token: 'A'.repeat(43), agentId: 'x' })),
      connected(agent(fixture, { agentId: 'x' })),
      connected(agent(fixture, {})),
      connected(agent(fixture, { token: revoked.token, agentId: 'x' })),
    ];
    for (const attempt of attempts) await expect(attempt).rejects.toThrow('invalid agent token');
  });

  it('refuses every login from an address after too many refused ones, logging that once', async () => {
    const fixture = await startGateway({ failedLoginRate: { ratePerSecond: 0.001, burst: 3 } });
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(connected(agent(fixture, { token: 'B'.repeat(43), agentId: 'x' }))).rejects.toThrow('invalid agent token');
    }
    // Throttled: even the right token is refused now, so guessing on gets nowhere; no lookup, no line each.
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(connectAgent(fixture)).rejects.toThrow(AGENT_CONNECT_ERRORS.tooManyFailedLogins);
    }
    expect(fixture.logLines.filter((line) => line.msg === 'refused agent connection')).toHaveLength(3);
    expect(fixture.logLines.filter((line) => line.msg.startsWith('too many refused agent logins'))).toHaveLength(1);
  });

  it('lets an address log in again once its refused logins have aged out', async () => {
    const fixture = await startGateway({ failedLoginRate: { ratePerSecond: 5, burst: 1 } });
    await expect(connected(agent(fixture, { token: 'C'.repeat(43), agentId: 'x' }))).rejects.toThrow('invalid agent token');
    await expect(connectAgent(fixture)).rejects.toThrow(AGENT_CONNECT_ERRORS.tooManyFailedLogins);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(connectAgent(fixture)).resolves.toBeDefined();
  });

  it('refuses a good token with a missing agent id', async () => {
    const fixture = await startGateway();
    await expect(connected(agent(fixture, { token: acme.token }))).rejects.toThrow('invalid agent id');
  });

  it('stores results with tenant, site and agent tags at the probe`s start time, then acks and fans out', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    const sent = [result(), result({ success: false, error: 'no answer', points: [] })];
    expect(await sendResults(client, { results: sent })).toEqual({ ok: true, accepted: sent.map((r) => r.id) });

    const ingestTags = { tenant: 'acme', site: 'acme-hq', agent: 'pbx-box' };
    expect([...fixture.series.points.values()]).toEqual([
      {
        measurement: 'stun_mapping',
        tags: { target: 'reflector', result: 'success', ...ingestTags },
        fields: sent[0]?.points[0]?.fields,
        timestampMs: sent[0]?.startedAt,
      },
      { measurement: 'probe_run', tags: { probe: 'stun-mapping', target: 'reflector', ...ingestTags }, fields: { success: true, duration_ms: 12 }, timestampMs: sent[0]?.startedAt },
      // The failed run has no probe point of its own: probe_run is what shows it on a dashboard.
      { measurement: 'probe_run', tags: { probe: 'stun-mapping', target: 'reflector', ...ingestTags }, fields: { success: false, duration_ms: 12 }, timestampMs: sent[1]?.startedAt },
    ]);
    expect(fixture.fannedOut).toEqual([{ site: acme.site, results: sent, agentId: 'pbx-box' }]);
  });

  it('stores a batch sent twice once, acks it both times and fans it out once', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    const batch = { results: [result(), result()] };
    const first = await sendResults(client, batch);
    const second = await sendResults(client, batch);
    expect(second).toEqual(first);
    expect(second).toEqual({ ok: true, accepted: batch.results.map((r) => r.id) });
    expect(probePoints(fixture).length).toBe(2);
    expect(fixture.fannedOut.flatMap((f) => f.results.map((r) => r.id))).toEqual(batch.results.map((r) => r.id));
  });

  it('refuses a malformed result for good with its reason, stores the good ones beside it and logs once', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    const good = result();
    const bad = result({ points: [{ measurement: 'stun_mapping', tags: {}, fields: { rtt_ms: 'fast' } }] });
    const reply = await sendResults(client, { results: [good, bad, { probe: 'nonsense' }] });
    expect(reply).toEqual({
      ok: true,
      accepted: [good.id],
      rejected: [
        { id: bad.id, error: 'invalid result results.1: points.0: field stun_mapping.rtt_ms must be float' },
        { id: '', error: expect.stringMatching(/^invalid result results\.2: id: /) },
      ],
    });
    expect(resultsAckSchema.safeParse(reply).success).toBe(true);
    expect(probePoints(fixture).length).toBe(1);
    expect(fixture.fannedOut.flatMap((f) => f.results.map((r) => r.id))).toEqual([good.id]);
    expect(await relational.unseenResultIds(acme.site.id, [bad.id])).toEqual([bad.id]);
    expect(fixture.logLines.filter((line) => line.msg === 'rejected results')).toHaveLength(1);
  });

  it('answers a payload that is not a results batch with ok:false and stores nothing', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    expect(await sendResults(client, 'not a batch')).toEqual({ ok: false, error: 'invalid results batch: Invalid input: expected object, received string' });
    expect(await sendResults(client, { results: [] })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid results batch: results: Too small/) });
    expect(probePoints(fixture).length).toBe(0);
    expect(fixture.logLines.filter((line) => line.msg === 'rejected results batch')).toHaveLength(2);
  });

  it('refuses a result whose points claim another site`s tags and stores nothing of it', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    const good = result();
    const forged = result();
    const point = forged.points[0];
    if (point) point.tags = { ...point.tags, site: 'globex-hq', tenant: 'globex' };
    const reply = await sendResults(client, { results: [good, forged] });
    expect(reply).toEqual({
      ok: true,
      accepted: [good.id],
      rejected: [{ id: forged.id, error: expect.stringMatching(/^invalid result results\.1: points\.0: unknown tag stun_mapping\.site/) }],
    });
    expect(probePoints(fixture).map((p) => [p.tags.site, p.timestampMs])).toEqual([['acme-hq', good.startedAt]]);
    expect(await relational.unseenResultIds(acme.site.id, [forged.id])).toEqual([forged.id]);
  });

  it('refuses a result carrying a probe_run point: only ingest writes those', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    const forged = result({ points: [{ measurement: 'probe_run', tags: { probe: 'sip-alg', target: 'reflector' }, fields: { success: true, duration_ms: 1 } }] as never });
    const reply = await sendResults(client, { results: [forged] });
    expect(reply).toMatchObject({ ok: true, accepted: [], rejected: [{ id: forged.id, error: expect.stringMatching(/^invalid result results\.0: points\.0\.measurement: /) }] });
    expect(fixture.series.points.size).toBe(0);
  });

  it('rejects a batch of more results than MAX_RESULTS_PER_BATCH and stores nothing', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    const results = Array.from({ length: MAX_RESULTS_PER_BATCH + 1 }, () => result());
    const reply = await sendResults(client, { results });
    expect(reply).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid results batch: results: Too big/) });
    expect(probePoints(fixture).length).toBe(0);
  });

  it('drops a connection that sends a message larger than MAX_MESSAGE_BYTES, storing nothing', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture);
    const disconnected = new Promise<string>((resolve) => client.once('disconnect', resolve));
    client.emit('results', { results: [result({ detail: 'x'.repeat(MAX_MESSAGE_BYTES) })] }, () => {});
    expect(await disconnected).toBe('transport close');
    expect(probePoints(fixture).length).toBe(0);
  });

  it('refuses results batches beyond the per-connection rate and logs that once', async () => {
    const fixture = await startGateway({ resultsRate: { ratePerSecond: 0.001, burst: 2 } });
    const client = await connectAgent(fixture);
    expect(await sendResults(client, { results: [result()] })).toMatchObject({ ok: true });
    expect(await sendResults(client, { results: [result()] })).toMatchObject({ ok: true });
    const refused = [await sendResults(client, { results: [result()] }), await sendResults(client, { results: [result()] })];
    for (const reply of refused) expect(reply).toMatchObject({ ok: false, error: expect.stringMatching(/^rate limited: /) });
    expect(probePoints(fixture).length).toBe(2);
    expect(fixture.logLines.filter((line) => line.msg === 'results batches rate limited')).toHaveLength(1);
  });

  it('stops taking results from a connected agent once its token is revoked (after the recheck interval)', async () => {
    const fixture = await startGateway({ tokenRecheckMs: 300 });
    const site = await relational.createSite('revoked-live', 'acme');
    const client = await connectAgent(fixture, site.token);
    expect(await sendResults(client, { results: [result()] })).toMatchObject({ ok: true });
    await relational.revokeSiteTokens(site.site.id);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const disconnected = new Promise<string>((resolve) => client.once('disconnect', resolve));
    expect(await sendResults(client, { results: [result()] })).toEqual({ ok: false, error: 'invalid agent token' });
    expect(await disconnected).toBe('io server disconnect');
    expect(probePoints(fixture).length).toBe(1);
  });

  it('cuts off an idle agent whose token is revoked by another process, without waiting for its next batch', async () => {
    const fixture = await startGateway();
    const site = await relational.createSite('revoked-idle', 'acme');
    const client = await connectAgent(fixture, site.token, 'idle-box');
    const bystander = await connectAgent(fixture, acme.token, 'bystander');
    const watch = watchTokenRevocations(relational, fixture.gateway, pino({ level: 'silent' }), 100);
    try {
      const disconnected = new Promise<string>((resolve) => client.once('disconnect', resolve));
      await relational.revokeSiteTokens(site.site.id);
      expect(await disconnected).toBe('io server disconnect');
      expect(bystander.connected).toBe(true);
    } finally {
      watch.stop();
    }
  });

  it('refuses batches over the site quota across all of the site`s connections, storing nothing of them', async () => {
    const fixture = await startGateway({ siteQuota: { resultsPerSecond: 0.001, resultsBurst: 3, bytesPerDay: 1e9 } });
    const site = await relational.createSite('quota-site', 'acme');
    const [first, second] = [await connectAgent(fixture, site.token, 'one'), await connectAgent(fixture, site.token, 'two')];
    expect(await sendResults(first, { results: [result(), result()] })).toMatchObject({ ok: true });
    expect(await sendResults(second, { results: [result(), result()] })).toEqual({
      ok: false,
      error: 'site quota exceeded: at most 0.001 results/s per site (burst 3); send again later',
    });
    expect(await sendResults(second, { results: [result()] })).toMatchObject({ ok: true });
    expect(probePoints(fixture).length).toBe(3);
    expect(fixture.logLines.filter((line) => line.msg === 'site quota exceeded')).toHaveLength(1);
  });

  it('refuses the root namespace, and closes unauthenticated connections past 20 from one address while agents elsewhere get in', async () => {
    const fixture = await startGateway();
    const root = connect(fixture.url.replace(AGENT_NAMESPACE, '/'), { transports: ['websocket'], reconnection: false, forceNew: true });
    clients.push(root as unknown as AgentClient);
    await expect(connected(root as unknown as AgentClient)).rejects.toThrow(ROOT_NAMESPACE_REFUSED);

    // Engine-level connections that never log in to any namespace, all from 127.0.0.5.
    const managers = Array.from({ length: 25 }, () => new Manager(fixture.url.replace(AGENT_NAMESPACE, ''), { transports: ['websocket'], reconnection: false, autoConnect: false, localAddress: '127.0.0.5' } as object));
    const outcomes = await Promise.all(
      managers.map(
        (manager) =>
          new Promise<'held' | 'closed'>((resolve) => {
            manager.open((err) => {
              if (err) return resolve('closed');
              manager.engine.once('close', () => resolve('closed'));
              setTimeout(() => resolve('held'), 500);
            });
          }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'held')).toHaveLength(20);
    const agentElsewhere = await connectAgent(fixture, acme.token, 'elsewhere');
    expect(agentElsewhere.connected).toBe(true);
    for (const manager of managers) manager.engine?.close();
  });

  it('records heartbeats as the agent`s last heartbeat', async () => {
    const fixture = await startGateway();
    const client = await connectAgent(fixture, acme.token, 'beating');
    client.emit('heartbeat', { at: 1_795_640_000_000, outboxDepth: 7, rssBytes: 50_000_000, uptimeS: 3600 });
    await vi.waitFor(async () => {
      const beating = (await relational.listAgents(acme.site.id)).find((a) => a.id === 'beating');
      expect(beating?.lastHeartbeat).toEqual({ at: 1_795_640_000_000, outboxDepth: 7, rssBytes: 50_000_000, uptimeS: 3600 });
    });
  });

  it('pushes a new config and a run-now request to the site`s agents only', async () => {
    const fixture = await startGateway();
    const mine = await connectAgent(fixture);
    const theirs = await connectAgent(fixture, other.token, 'globex-box');
    const received: Array<AgentConfig | RunNow> = [];
    theirs.on('config', (config) => received.push(config));
    theirs.on('runNow', (request) => received.push(request));
    const config = new Promise<AgentConfig>((resolve) => mine.once('config', resolve));
    const runNow = new Promise<RunNow>((resolve) => mine.once('runNow', resolve));

    await relational.setSiteSchedule(acme.site.id, { ...DEFAULT_SCHEDULE, bindingLifetime: '' });
    expect(await fixture.gateway.pushConfig(acme.site.id)).toBe(1);
    expect((await config).schedule.bindingLifetime).toBe('');
    expect(await fixture.gateway.runNow(acme.site.id, ['sip-alg'])).toBe(1);
    expect(await runNow).toEqual({ probes: ['sip-alg'] });
    await relational.setSiteSchedule(acme.site.id, DEFAULT_SCHEDULE);
    expect(received).toEqual([]);
  });

  it('refuses 200 connections with bad tokens from one host and still serves a good agent on another', async () => {
    const fixture = await startGateway();
    const attempts = Array.from({ length: 200 }, (_, i) =>
      connected(agent(fixture, { token: randomUUID() + randomUUID(), agentId: `flood-${i}` })).then(
        () => 'admitted',
        (error: Error) => error.message,
      ),
    );
    const outcomes = await Promise.all(attempts);
    expect(new Set(outcomes)).toEqual(new Set(['invalid agent token', AGENT_CONNECT_ERRORS.tooManyFailedLogins]));
    // Past the burst (and the lookups already in flight) the flooding host costs no token lookup.
    expect(outcomes.filter((outcome) => outcome === AGENT_CONNECT_ERRORS.tooManyFailedLogins).length).toBeGreaterThan(100);

    const client = await connected(agent(fixture, { token: acme.token, agentId: 'pbx-box' }, '127.0.0.2'));
    expect(await client.timeout(5000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0', hostname: 'pbx' })).toMatchObject({ ok: true });
  });
});

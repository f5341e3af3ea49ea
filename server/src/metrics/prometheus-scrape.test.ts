/**
 * /metrics as an MSP's monitoring sees it: a real Prometheus (Debian's package) scrapes a real
 * server that stores into a real InfluxDB, after an agent sent results over socket.io and a STUN
 * client was answered, and an alert fired whose notification a webhook refused. The target is up
 * with the token, refused without it, and every series the README lists is there with the values
 * those events give.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, type AgentToServerEvents, type ServerToAgentEvents } from '@algwatch/protocol/events';
import { parseServerConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { startInfluxd, type RunningInfluxd } from '../../../test/helpers/influxd.js';
import { startPrometheus, type RunningPrometheus } from '../../../test/helpers/prometheus.js';
import { algSip, sipAlgResult } from '../../../test/helpers/probe-results.js';
import { ChannelStore } from '../alerting/channels/channel-store.js';
import { startHttpReceiver, type HttpReceiver } from '../alerting/notifiers/test-http-receiver.js';
import { waitFor } from '../alerting/test-engine.js';

const METRICS_TOKEN = randomBytes(24).toString('base64url');

let dataDir: string;
let influxd: RunningInfluxd;
let server: RunningServer;
let agent: Socket<ServerToAgentEvents, AgentToServerEvents>;
let prometheus: RunningPrometheus;
let webhook: HttpReceiver;

/** stunBindingRequest sends one RFC 5389 Binding request and resolves when the answer arrives. */
function stunBindingRequest(port: number): Promise<Buffer> {
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
  request.writeUInt32BE(0x2112a442, 4); // magic cookie
  randomBytes(12).copy(request, 8);
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no STUN answer within 5 s'));
    }, 5_000);
    socket.once('message', (answer) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    });
    socket.send(request, port, '127.0.0.1');
  });
}

/** scraped waits until Prometheus has scraped both jobs at least once after every event above. */
async function scrapedAfter(since: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const samples = await prometheus.query('timestamp(up)');
    if (samples.length === 2 && samples.every((sample) => sample.value * 1000 > since)) return;
    if (Date.now() > deadline) throw new Error(`Prometheus did not scrape both jobs within 30 s: ${JSON.stringify(await prometheus.targets())}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'algwatch-metrics-'));
  influxd = await startInfluxd();
  // Alerts go out at once, in one attempt, to a webhook receiver that answers 503: one failed notification.
  const config = parseServerConfig(
    ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--metrics-port', '0', '--data-dir', dataDir,
      '--alert-group-wait', '0', '--notify-attempts', '1', '--notify-timeout', '2s'],
    { ALGWATCH_INFLUX_URL: `${influxd.url}/algwatch`, ALGWATCH_METRICS_TOKEN: METRICS_TOKEN },
  );
  server = await startServer(config, pino({ level: 'silent' }));
  const { token } = await server.relational.createSite('branch-1', 'acme');
  webhook = await startHttpReceiver();
  webhook.answer([], { status: 503, body: 'down for maintenance' });
  await new ChannelStore(server.relational.db).add({ name: 'noc', destination: { kind: 'webhook', url: `${webhook.origin}/algwatch`, secret: 'a-webhook-secret-of-length' } });
  agent = connect(`http://127.0.0.1:${server.httpPort}${AGENT_NAMESPACE}`, { auth: { token, agentId: 'desk-1' }, transports: ['websocket'], reconnection: false });
  await agent.timeout(5_000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0', hostname: 'desk-1' });
  const ack = await agent.timeout(10_000).emitWithAck('results', { results: [{ ...sipAlgResult('udp', algSip), startedAt: Date.now() - 1_000 }] });
  expect(ack).toMatchObject({ ok: true });
  await stunBindingRequest(server.stun.sockets[0]!.port);
  // The ALG result fires sip_alg_udp (critical); its notification is refused by the receiver.
  await waitFor('the webhook was tried', () => webhook.requests.length === 1);
  // The outcome is counted once deliver has recorded it, just after the receiver answered.
  await waitFor('the failed delivery', async () => (await server.metrics.notificationFailures.get()).values.some((sample) => sample.value === 1));
  const eventsDone = Date.now();

  const target = `127.0.0.1:${server.metricsPort}`;
  prometheus = await startPrometheus(
    [
      'global: { scrape_interval: 1s, scrape_timeout: 1s }',
      'scrape_configs:',
      '  - job_name: algwatch',
      `    authorization: { type: Bearer, credentials: "${METRICS_TOKEN}" }`,
      `    static_configs: [{ targets: ["${target}"] }]`,
      '  - job_name: algwatch-without-token',
      `    static_configs: [{ targets: ["${target}"] }]`,
      '',
    ].join('\n'),
  );
  await scrapedAfter(eventsDone);
}, 90_000);

afterAll(async () => {
  agent?.close();
  await prometheus?.stop();
  await server?.close();
  await webhook?.close();
  await influxd?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** value is the one sample a PromQL query returns (the test fails when there is none or several). */
async function value(promql: string): Promise<number> {
  const samples = await prometheus.query(promql);
  expect(samples, promql).toHaveLength(1);
  return samples[0]!.value;
}

describe('Prometheus scraping /metrics', () => {
  it('sees the target up with the bearer token, and down (401) without it', async () => {
    const targets = await prometheus.targets();
    expect(targets.find((target) => target.job === 'algwatch')).toMatchObject({ health: 'up', lastError: '' });
    expect(targets.find((target) => target.job === 'algwatch-without-token')?.lastError).toMatch(/401/);
    expect(await value('up{job="algwatch"}')).toBe(1);
    expect(await value('up{job="algwatch-without-token"}')).toBe(0);
  });

  it('counts the connected agent and the stored result by probe', async () => {
    expect(await value('algwatch_agents_connected{job="algwatch"}')).toBe(1);
    expect(await value('algwatch_results_ingested_total{job="algwatch",probe="sip-alg"}')).toBe(1);
    // Every probe has its series from the start, at 0 until a result arrives.
    expect(await value('algwatch_results_ingested_total{job="algwatch",probe="binding-lifetime"}')).toBe(0);
  });

  it('has the batch ingest latency histogram and the InfluxDB write latency histogram', async () => {
    expect(await value('algwatch_ingest_batch_duration_seconds_count{job="algwatch",outcome="stored"}')).toBe(1);
    expect(await value('algwatch_ingest_batch_duration_seconds_bucket{job="algwatch",outcome="stored",le="+Inf"}')).toBe(1);
    expect(await value('algwatch_influxdb_write_duration_seconds_count{job="algwatch",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    // InfluxDB answers: nothing waits in the spool.
    expect(await value('algwatch_influxdb_spool_bytes{job="algwatch"}')).toBe(0);
  });

  it('reports the alerts firing by severity and the notifications no channel accepted', async () => {
    expect(await value('algwatch_alerts_firing{job="algwatch",severity="critical"}')).toBe(1);
    expect(await value('algwatch_alerts_firing{job="algwatch",severity="warning"}')).toBe(0);
    expect(await value('algwatch_notification_failures_total{job="algwatch",kind="webhook"}')).toBe(1);
    expect(await value('algwatch_notification_failures_total{job="algwatch",kind="email"}')).toBe(0);
  });

  it('counts reflector requests answered and dropped by the rate budget', async () => {
    expect(await value('algwatch_reflector_requests_total{job="algwatch",reflector="stun",outcome="answered"}')).toBe(1);
    expect(await value('algwatch_reflector_requests_total{job="algwatch",reflector="stun",outcome="rate_limited"}')).toBe(0);
    expect(await value('algwatch_reflector_requests_total{job="algwatch",reflector="sip",outcome="answered"}')).toBe(0);
  });
});

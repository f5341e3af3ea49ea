/**
 * The metrics endpoint on its own: loopback and port 9464 unless configured, the bearer token
 * enforced, only /metrics served; and the reflectors' shared budget counted per reflector.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServerConfig } from '../config.js';
import { SourceRateLimiter } from '../reflector/rate-limit.js';
import { startMetricsEndpoint, type MetricsEndpoint } from './metrics-endpoint.js';
import { meteredLimiter, meteredSignedProbes } from './metered-rate-limiter.js';
import { SignedProbes } from '../reflector/signed-probes.js';
import { ServerMetrics } from './server-metrics.js';

const TOKEN = 'a-long-enough-metrics-secret';

describe('metrics configuration', () => {
  it('defaults to 127.0.0.1:9464 without a token', () => {
    const config = parseServerConfig([], {});
    expect({ port: config.metricsPort, bind: config.metricsBind, token: config.metricsToken }).toEqual({ port: 9464, bind: '127.0.0.1', token: undefined });
  });

  it('refuses a bad bind address, port and a short token, each on its own line', () => {
    expect(() => parseServerConfig(['--metrics-bind', 'everywhere', '--metrics-port', '99999', '--metrics-token', 'short'], {})).toThrow(
      [
        '--metrics-port (ALGWATCH_METRICS_PORT) must be a port number from 0 to 65535',
        '--metrics-bind (ALGWATCH_METRICS_BIND) must be an IP address, e.g. 127.0.0.1',
        '--metrics-token (ALGWATCH_METRICS_TOKEN) must be at least 16 characters (a random secret)',
      ].join('\n'),
    );
  });
});

describe('the metrics endpoint', () => {
  let endpoint: MetricsEndpoint;
  let base: string;
  const metrics = new ServerMetrics();

  beforeAll(async () => {
    endpoint = await startMetricsEndpoint({ registry: metrics.registry, bind: '127.0.0.1', port: 0, token: TOKEN });
    base = `http://127.0.0.1:${endpoint.port}`;
  });
  afterAll(async () => {
    await endpoint?.close();
  });

  it('answers the Prometheus text format to the right bearer token', async () => {
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await response.text();
    expect(body).toMatch(/^# TYPE algwatch_agents_connected gauge$/m);
    expect(body).toMatch(/^algwatch_results_ingested_total\{probe="sip-alg"\} 0$/m);
  });

  it('answers 401 without a token or with a wrong one, and never echoes the token', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token-of-some-length' }, { authorization: `Basic ${TOKEN}` }];
    for (const headers of attempts) {
      const response = await fetch(`${base}/metrics`, { headers });
      expect(response.status).toBe(401);
      expect(await response.text()).not.toContain(TOKEN);
    }
  });

  it('serves nothing but /metrics', async () => {
    expect((await fetch(`${base}/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });
});

describe('the reflectors\' metered budget', () => {
  it('shares one budget per source between SIP and STUN and counts each decision under its reflector', async () => {
    const metrics = new ServerMetrics();
    const shared = new SourceRateLimiter({ ratePerSecond: 0.001, burst: 2, maxSources: 10 });
    const sip = meteredLimiter(shared, 'sip', metrics);
    const stun = meteredLimiter(shared, 'stun', metrics);
    const now = 1_000;
    expect([sip.allow('198.51.100.7', now), stun.allow('198.51.100.7', now), stun.allow('198.51.100.7', now), sip.allow('198.51.100.8', now)]).toEqual([true, true, false, true]);
    expect(stun.exhausted('198.51.100.7', now)).toBe(true);
    const counts = Object.fromEntries(
      (await metrics.reflectorRequests.get()).values.map((sample) => [`${sample.labels.reflector}/${sample.labels.outcome}`, sample.value]),
    );
    expect(counts).toEqual({ 'sip/answered': 2, 'sip/rate_limited': 0, 'stun/answered': 1, 'stun/rate_limited': 1 });
  });
});

describe('the signed probes\' metered budget', () => {
  it('counts the decisions of a site\'s budget too, spending the shared budget', async () => {
    const metrics = new ServerMetrics();
    const shared = new SignedProbes({ ratePerSecond: 0.001, burst: 2 });
    const stun = meteredSignedProbes(shared, 'stun', metrics);
    expect([stun.allow('site-a', 1_000), stun.allow('site-a', 1_000), stun.allow('site-a', 1_000)]).toEqual([true, true, false]);
    expect(shared.exhausted('site-a', 1_000)).toBe(true);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^algwatch_reflector_requests_total\{reflector="stun",outcome="answered"\} 2$/m);
    expect(text).toMatch(/^algwatch_reflector_requests_total\{reflector="stun",outcome="rate_limited"\} 1$/m);
  });
});

describe('the alerting metrics', () => {
  it('read the firing alerts by severity at each scrape, and count undelivered notifications by channel kind', async () => {
    const metrics = new ServerMetrics();
    let firing: Record<string, number> = { critical: 2 };
    metrics.countFiringAlertsWith(() => Promise.resolve(firing));
    metrics.recordDelivery('slack', { delivered: false });
    metrics.recordDelivery('slack', { delivered: true });
    metrics.recordDelivery('email', { delivered: false });
    let text = await metrics.registry.metrics();
    expect(text).toMatch(/^algwatch_alerts_firing\{severity="critical"\} 2$/m);
    expect(text).toMatch(/^algwatch_alerts_firing\{severity="warning"\} 0$/m);
    expect(text).toMatch(/^algwatch_notification_failures_total\{kind="slack"\} 1$/m);
    expect(text).toMatch(/^algwatch_notification_failures_total\{kind="email"\} 1$/m);
    expect(text).toMatch(/^algwatch_notification_failures_total\{kind="webhook"\} 0$/m);
    firing = { warning: 1 };
    text = await metrics.registry.metrics();
    expect(text).toMatch(/^algwatch_alerts_firing\{severity="critical"\} 0$/m);
    expect(text).toMatch(/^algwatch_alerts_firing\{severity="warning"\} 1$/m);
    // A store that fails keeps the last values and the scrape still answers.
    metrics.countFiringAlertsWith(() => Promise.reject(new Error('database is down')));
    expect(await metrics.registry.metrics()).toMatch(/^algwatch_alerts_firing\{severity="warning"\} 1$/m);
  });
});

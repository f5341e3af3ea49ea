/**
 * serveMetrics starts the /metrics endpoint for a running server, as configured. Metrics watch the
 * server; they are not the service: when the metrics port cannot be had, the reflectors and ingest
 * still start and the failure is logged as an error (Prometheus then shows the target down).
 */
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { startMetricsEndpoint, type MetricsEndpoint } from './metrics-endpoint.js';
import type { ServerMetrics } from './server-metrics.js';

const LOOPBACK = /^(127\.|::1$)/;

/** serveMetrics resolves to the listening endpoint, or undefined (logged) when it could not listen. */
export async function serveMetrics(config: ServerConfig, metrics: ServerMetrics, log: Logger): Promise<MetricsEndpoint | undefined> {
  if (!LOOPBACK.test(config.metricsBind) && !config.metricsToken) {
    log.warn({ metricsBind: config.metricsBind }, '/metrics is reachable beyond this host without a token: set --metrics-token, or firewall the port');
  }
  try {
    const endpoint = await startMetricsEndpoint({
      registry: metrics.registry,
      bind: config.metricsBind,
      port: config.metricsPort,
      ...(config.metricsToken ? { token: config.metricsToken } : {}),
    });
    log.info({ metricsBind: config.metricsBind, metricsPort: endpoint.port, auth: config.metricsToken ? 'bearer' : 'none' }, 'metrics listening');
    return endpoint;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log.error({ metricsBind: config.metricsBind, metricsPort: config.metricsPort, err: e.code ?? e.message }, 'metrics could not listen: /metrics is unavailable (choose another --metrics-port)');
    return undefined;
  }
}

// The real algwatch server (startServer: reflectors, HTTP, socket.io agent gateway, relational
// store, InfluxDB time-series store) in its own process, for the ingest benchmark. Reflectors on
// ephemeral ports; the log (info level, as in production) goes to <dataDir>/server.log.
// argv: DATA_DIR INFLUX_URL [--no-alerting] [--bench-webhook URL] [server flags...]. --no-alerting
// runs without the alert engine (the alerting bench's baseline); --bench-webhook sends every alert
// notification as a JSON POST to URL (the alerting bench's receiver). Reports `{ ready: httpPort }`, then answers every IPC message with its
// usage: CPU seconds, RSS, and event-loop active/idle milliseconds (a loop busy while the CPU is
// not means it is blocked in synchronous I/O, such as an fsync).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
// The compiled server, as `algwatch-server` runs it (npm run bench builds first), not tsx's
// on-the-fly transform of the sources.
import { parseServerConfig } from '../../server/dist/config.js';
import { startServer } from '../../server/dist/server.js';
import type { AlertDispatcher } from '../../server/dist/alerting/dispatch.js';

/** IngestServerUsage is the server process's answer to any IPC message once it is ready. */
export interface IngestServerUsage {
  cpuSeconds: number;
  rssBytes: number;
  loopActiveMs: number;
  loopIdleMs: number;
}

const [dataDir, influxUrl, ...extra] = process.argv.slice(2);
if (!dataDir || !influxUrl) throw new Error('usage: ingest-server.ts DATA_DIR INFLUX_URL [--no-alerting] [--bench-webhook URL] [flags...]');
const alerting = !extra.includes('--no-alerting');
const webhookAt = extra.indexOf('--bench-webhook');
const webhook = webhookAt >= 0 ? extra[webhookAt + 1] : undefined;
const serverFlags = extra.filter((arg, i) => arg !== '--no-alerting' && i !== webhookAt && i !== webhookAt + 1);
/** A plain JSON POST per notification: the receiver times its arrival. */
const webhookDispatcher: AlertDispatcher | undefined = webhook
  ? {
      async dispatch(notification) {
        const res = await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(notification) });
        return [{ channel: 'bench-webhook', ok: res.ok, ...(res.ok ? {} : { error: `HTTP ${res.status}` }) }];
      },
    }
  : undefined;
const config = parseServerConfig(
  ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--metrics-port', '0', '--data-dir', dataDir, '--influx-url', influxUrl,
    // The flood sends ~800 results/s per site, far past the per-site quota that protects a real
    // server: lifted here so the figure is ingest's own throughput.
    '--site-results-per-second', '1000000', '--site-mb-per-day', '1000000', ...serverFlags],
  {},
);
const log = pino({ level: 'info', base: { service: 'algwatch-server' } }, pino.destination({ dest: join(dataDir, 'server.log'), sync: false }));
const server = await startServer(config, log, { alerting, ...(webhookDispatcher ? { dispatcher: webhookDispatcher } : {}) });
process.once('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
process.on('message', () => {
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const usage: IngestServerUsage = { cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBytes: process.memoryUsage().rss, loopActiveMs: loop.active, loopIdleMs: loop.idle };
  process.send?.(usage);
});
process.send?.({ ready: server.httpPort });

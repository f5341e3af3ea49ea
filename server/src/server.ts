/**
 * startServer composes the running server: the SIP and STUN reflectors, the HTTP endpoint (health
 * now; API, dashboard and agent connections on the same port), and storage. It owns start-up order
 * and shutdown; each part lives in its own folder.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { ensureWritableDirectory } from '@algwatch/protocol/writable-directory';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.js';
import { startSipReflector, type SipReflector } from './reflector/sip-server.js';
import { RtpSessions } from './reflector/rtp-sessions.js';
import { isIP } from 'node:net';
import { startStunReflector, type StunReflector } from './reflector/stun-server.js';
import { loadOrCreateTlsCertificate } from './reflector/tls-certificate.js';
import { DEFAULT_SITE_PROBE_BUDGET, SignedProbes } from './reflector/signed-probes.js';
import { refreshProbeKeys } from './reflector/probe-key-refresh.js';
import { SourceRateLimiter } from './reflector/rate-limit.js';
import { Server as SocketIoServer } from 'socket.io';
import { hostname } from 'node:os';
import { openRelationalStore } from './relational/open.js';
import type { RelationalStore } from './relational/relational-store.js';
import { openTimeSeriesStore } from './storage/open-time-series.js';
import type { TimeSeriesStore } from './storage/time-series.js';
import { attachAgentGateway, AGENT_SERVER_OPTIONS, type AgentGateway } from './ingest/agent-gateway.js';
import type { ResultsFanOut } from './ingest/ingest-results.js';
import { ResultsFeed } from './ingest/results-feed.js';
import { AlertEngine } from './alerting/engine.js';
import type { AlertDispatcher } from './alerting/dispatch.js';
import { channelsDispatcher } from './alerting/channels-dispatcher.js';
import { defaultSmtpFrom } from './alerting/notifiers/email.js';
import { watchSiteConfigChanges } from './ingest/config-push.js';
import { attachDashboard, type Dashboard } from './web/dashboard.js';
import type { LoginThrottleOptions } from './web/login-throttle.js';
import { watchTokenRevocations } from './ingest/revocation-watch.js';
import { guardHandshakes } from './ingest/handshake-guard.js';
import { DEFAULT_SITE_QUOTA } from './ingest/site-quota.js';
import { AGENT_NAMESPACE } from '@algwatch/protocol/events';
import { InfluxTimeSeriesStore } from './storage/influx-store.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { meteredLimiter, meteredSignedProbes } from './metrics/metered-rate-limiter.js';
import { serveMetrics } from './metrics/serve-metrics.js';
import { firingAlertsBySeverity } from './metrics/firing-alerts.js';

export const SERVER_VERSION = '0.1.0';

export interface RunningServer {
  readonly httpPort: number;
  readonly sip: SipReflector;
  readonly stun: StunReflector;
  readonly relational: RelationalStore;
  readonly timeSeries: TimeSeriesStore;
  readonly agents: AgentGateway;
  /** The Prometheus registry behind /metrics (alerting and others register their metrics here). */
  readonly metrics: ServerMetrics;
  /** The port /metrics listens on; undefined when it could not listen (logged). */
  readonly metricsPort: number | undefined;
  /** Every newly stored batch of results, once each (alerting and the dashboard subscribe). */
  readonly results: ResultsFeed;
  /** The alert engine; null when started with `alerting: false`. */
  readonly alerts: AlertEngine | null;
  close(): Promise<void>;
}

export interface StartServerHooks {
  /** Called with every newly stored batch of results (the same batches `results` publishes). */
  onResults?: ResultsFanOut;
  /** Login throttling other than the default (tests). */
  loginThrottle?: LoginThrottleOptions;
  /** The Redis channel of dashboard updates other than the default (tests sharing one Redis). */
  relayChannel?: string;
  /** How often open dashboard sockets' sessions are checked again (default 60 s; tests). */
  sessionRecheckMs?: number;
  /** Where alert notifications go; default: the tenant's notification channels. */
  dispatcher?: AlertDispatcher;
  /** false runs without the alert engine (the ingest bench's baseline); default true. */
  alerting?: boolean;
}

/** StartupError is a failure to start that a technician can fix (port taken, bad certificate). */
export class StartupError extends Error {}

export async function startServer(config: ServerConfig, log: Logger, hooks: StartServerHooks = {}): Promise<RunningServer> {
  await ensureWritableDirectory(config.dataDir).catch((err: Error) => {
    throw new StartupError(err.message);
  });
  // Per-packet events (garbage ignored, failed handshakes) go to debug: a spoofed flood must not
  // turn into a flood of log lines. Listening, limits reached and errors stay at info.
  const perPacket = /\.(ignored|stream_invalid|tls_handshake_failed|udp_send_failed|reply_too_large|source_connection_limit|slot_evicted|no_request|idle_closed|message_too_slow)$/;
  const emit = (event: string, fields: Record<string, unknown>) => (perPacket.test(event) ? log.debug(fields, event) : log.info(fields, event));
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((err) => log.warn({ err }, 'close failed'));
  };
  try {
    const tls = await loadOrCreateTlsCertificate(
      config.dataDir,
      config.tlsCert && config.tlsKey ? { certFile: config.tlsCert, keyFile: config.tlsKey } : undefined,
    );
    if (tls.generated) log.info({ dataDir: config.dataDir }, 'generated a self-signed TLS certificate for SIP over TLS');

    // One budget per source address shared by SIP and STUN: a spoofed flood gets little back.
    const limiter = new SourceRateLimiter({ ratePerSecond: 200, burst: 2000, maxSources: 100_000 });
    const metrics = new ServerMetrics();
    // Signed probes pay from their site's budget instead, out of a spoofer's reach (keys loaded below).
    const signedProbes = new SignedProbes(DEFAULT_SITE_PROBE_BUDGET);
    const stun = await listening('STUN', () =>
      startStunReflector({
        bind: config.bind,
        ...(config.altAddress ? { altAddress: config.altAddress } : {}),
        port: config.stunPort,
        altPort: config.stunAltPort,
        limiter: meteredLimiter(limiter, 'stun', metrics),
        signedProbes: meteredSignedProbes(signedProbes, 'stun', metrics),
        log: emit,
      }),
    );
    closers.push(() => stun.close());
    // The rtp-path probe's media sessions, set up by INVITEs to the SIP reflector.
    const rtp = await listening('RTP', () =>
      RtpSessions.start({
        bind: config.bind,
        ...(config.altAddress ? { altAddress: config.altAddress } : {}),
        // The SDP answer's c= must be an address agents reach: --public-host when it is one.
        ...(config.publicHost && isIP(config.publicHost) ? { mediaAddress: config.publicHost } : {}),
        log: emit,
      }),
    );
    closers.push(() => rtp.close());
    const sip = await listening('SIP', () =>
      startSipReflector({
        rtp,
        bind: config.bind,
        udpPort: config.sipPort,
        tcpPort: config.sipPort,
        tlsPort: config.tlsPort,
        tls: { key: tls.key, cert: tls.cert },
        maxConnections: config.sipMaxConnections,
        limiter: meteredLimiter(limiter, 'sip', metrics),
        signedProbes: meteredSignedProbes(signedProbes, 'sip', metrics),
        log: emit,
      }),
    );
    closers.push(() => sip.close());

    const relational = await openRelationalStore({
      dataDir: config.dataDir,
      ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    }).catch((err: Error) => {
      throw new StartupError(err.message);
    });
    closers.push(() => relational.close());
    const probeKeys = await refreshProbeKeys(relational.db, signedProbes, log);
    closers.push(async () => probeKeys.stop());
    const timeSeries = await openTimeSeriesStore({
      dataDir: config.dataDir,
      log,
      onInfluxWrite: metrics.observeInfluxWrite,
      ...(config.influxUrl ? { influxUrl: config.influxUrl } : {}),
    }).catch((err: Error) => {
      throw new StartupError(err.message);
    });
    closers.push(() => timeSeries.close());
    if (timeSeries instanceof InfluxTimeSeriesStore) metrics.measureSpoolWith(() => timeSeries.spooledBytes);

    const results = new ResultsFeed((err) => log.error({ err }, 'results subscriber failed'));
    const onResults = hooks.onResults;
    if (onResults) results.subscribe((batch) => onResults(batch.site, batch.results, batch.agentId));
    let alerts: AlertEngine | null = null;
    // Deliveries still retrying when the server stops give up (recorded as failed) instead of holding it up.
    const stopping = new AbortController();
    if (hooks.alerting !== false) {
      const engine = await AlertEngine.start({
        relational,
        timeSeries,
        log,
        dispatcher:
          hooks.dispatcher ??
          channelsDispatcher({
            db: relational.db,
            smtpFrom: config.smtpFrom ?? defaultSmtpFrom(),
            log,
            attempts: config.notifyAttempts,
            attemptTimeoutMs: config.notifyTimeoutMs,
            signal: stopping.signal,
            onOutcome: (kind, outcome) => metrics.recordDelivery(kind, outcome),
          }),
        timing: { groupWaitMs: config.alertGroupWaitMs, groupIntervalMs: config.alertGroupIntervalMs, repeatIntervalMs: config.alertRepeatIntervalMs },
        agentOfflineAfterMs: config.agentOfflineAfterMs,
        publicUrl: config.publicUrl,
      }).catch((err: Error) => {
        throw new StartupError(`alerting could not start: ${err.message}`);
      });
      alerts = engine;
      metrics.countFiringAlertsWith(() => firingAlertsBySeverity(relational.db));
      results.subscribe(engine.onResults);
      closers.push(() => engine.close());
      // Runs before engine.close (closers run last first): retrying deliveries end, then the engine drains.
      closers.push(async () => stopping.abort());
    }


    // Every HTTP request but socket.io's goes to the dashboard's dispatcher, which admits only
    // /healthz and the login form without a session (web/http-app.ts).
    let dashboard: Dashboard | undefined;
    const http = createServer((req, res) => {
      if (dashboard) return dashboard.handler(req, res);
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('starting\n');
    });
    const io = new SocketIoServer(http, { ...AGENT_SERVER_OPTIONS, serveClient: false });
    let handshakeRefusalLogged = false;
    const handshakes = guardHandshakes(io, {
      onRefused: (address) => {
        // Once per server run: a flood must not become a flood of log lines.
        if (!handshakeRefusalLogged) log.warn({ address }, 'too many unauthenticated socket.io connections from one address; closing the extra ones');
        handshakeRefusalLogged = true;
      },
    });
    const agents = attachAgentGateway(io, {
      handshakes,
      relational,
      timeSeries,
      log,
      reflectorHost: reflectorHostFor(config),
      reflectorPorts: { sip: sip.ports.udp, tls: sip.ports.tls, stun: stun.sockets[0]?.port ?? config.stunPort },
      siteQuota: {
        resultsPerSecond: config.siteResultsPerSecond,
        resultsBurst: Math.max(DEFAULT_SITE_QUOTA.resultsBurst, config.siteResultsPerSecond * 10),
        bytesPerDay: config.siteMbPerDay * 1024 * 1024,
      },
      onBatchIngested: metrics.observeBatch,
      onResults: (site, stored, agentId) => {
        metrics.recordResults(stored);
        results.publish({ site, agentId, results: stored });
      },
    });
    dashboard = await attachDashboard({
      io,
      handshakes,
      relational,
      timeSeries,
      log,
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      ...(hooks.loginThrottle ? { loginThrottle: hooks.loginThrottle } : {}),
      ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
      ...(hooks.relayChannel ? { relayChannel: hooks.relayChannel } : {}),
      ...(hooks.sessionRecheckMs ? { sessionRecheckMs: hooks.sessionRecheckMs } : {}),
      version: SERVER_VERSION,
      health: () => ({ version: SERVER_VERSION, sip: sip.ports, stun: stun.sockets, stats: { stun: stun.stats() } }),
      runNow: (siteId, probes) => agents.runNow(siteId, probes),
      pushConfig: (siteId) => agents.pushConfig(siteId),
      disconnectSite: (siteId) => agents.disconnectSite(siteId),
    }).catch((err: Error) => {
      throw new StartupError(err.message);
    });
    const dashboardReady = dashboard;
    results.subscribe((batch) => dashboardReady.onResults(batch.site, batch.results));
    closers.push(async () => dashboard?.close());
    const configWatch = watchSiteConfigChanges(relational, agents, log);
    closers.push(async () => configWatch.stop());
    const revocationWatch = watchTokenRevocations(relational, agents, log);
    closers.push(async () => revocationWatch.stop());
    const pruning = setInterval(() => void pruneSeenResults(relational, log), SEEN_RESULTS_PRUNE_EVERY_MS);
    pruning.unref();
    closers.push(async () => clearInterval(pruning));
    metrics.countAgentsWith(() => io.of(AGENT_NAMESPACE).sockets.size);
    const metricsEndpoint = await serveMetrics(config, metrics, log);
    if (metricsEndpoint) closers.push(() => metricsEndpoint.close());
    const httpPort = await listen(http, config.httpPort, config.httpBind);
    // Order matters on the way down: stop taking results before the stores close.
    closers.push(async () => {
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await closeHttp(http);
    });

    log.info(
      { bind: config.bind, altAddress: config.altAddress ?? null, sip: sip.ports, stun: stun.sockets, httpPort },
      'algwatch server listening',
    );
    return { httpPort, sip, stun, relational, timeSeries, agents, results, alerts, metrics, metricsPort: metricsEndpoint?.port, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * Result ids are kept to recognise resends. An agent's outbox resends within hours, at worst days;
 * past SEEN_RESULTS_KEEP_MS a resend is stored again as the same point (harmless) and fanned out
 * again, which bounds the table instead of letting it grow forever.
 */
const SEEN_RESULTS_KEEP_MS = 35 * 24 * 3600 * 1000;
const SEEN_RESULTS_PRUNE_EVERY_MS = 6 * 3600 * 1000;

async function pruneSeenResults(relational: RelationalStore, log: Logger): Promise<void> {
  try {
    const pruned = await relational.pruneSeenResults(new Date(Date.now() - SEEN_RESULTS_KEEP_MS));
    if (pruned > 0) log.info({ pruned }, 'forgot result ids older than 35 days');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not prune old result ids');
  }
}

/** reflectorHostFor is the host agents are told to probe: --public-host, else the bind address. */
function reflectorHostFor(config: ServerConfig): string {
  if (config.publicHost) return config.publicHost;
  return config.bind === '0.0.0.0' || config.bind === '::' ? hostname() : config.bind;
}

async function listening<T>(what: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new StartupError(`${what} reflector could not listen: ${describeListenError(err)}`);
  }
}

function listen(server: HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new StartupError(`HTTP could not listen: ${describeListenError(err)}`)));
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function describeListenError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === 'EADDRINUSE') return `${e.address ?? ''}:${e.port ?? ''} is already in use (another algwatch or SIP server?)`;
  if (e.code === 'EADDRNOTAVAIL') return `${e.address ?? ''} is not an address of this host`;
  if (e.code === 'EACCES') return `permission denied for ${e.address ?? ''}:${e.port ?? ''}`;
  return e.message?.split('\n')[0] ?? String(err);
}

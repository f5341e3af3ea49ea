/**
 * ServerMetrics: every metric the server exposes on /metrics, in one Prometheus registry (prom-client).
 * The parts of the server report into it through small hooks (the ingest, storage and reflector
 * code knows nothing of Prometheus); gauges that are a count of something the server already holds
 * (connected agents, spooled bytes) are read when Prometheus scrapes, never kept twice.
 *
 * Names follow Prometheus' conventions: the `algwatch_` prefix, `_total` on counters, base units
 * (seconds, bytes) in the name.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PROBE_NAMES, type ProbeName } from '@algwatch/protocol/events';

/** Which reflector answered (or refused) a request. */
export type ReflectorName = 'sip' | 'stun';

export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
/** The channel kinds of server/src/alerting/notification.ts (Notifier['kind']). */
const CHANNEL_KINDS = ['email', 'slack', 'webhook'] as const;

/** Where a batch of results ended: stored (acknowledged), or refused / failed (sent again later). */
export type BatchOutcome = 'stored' | 'not_stored';

export class ServerMetrics {
  readonly registry = new Registry();

  /** Results stored for the first time, per probe (resends of stored results are not counted again). */
  readonly resultsIngested = new Counter({
    name: 'algwatch_results_ingested_total',
    help: 'Probe results stored for the first time, per probe.',
    labelNames: ['probe'] as const,
    registers: [this.registry],
  });

  /** From a batch's arrival to its acknowledgement: validation, the time-series write, the seen-ids mark. */
  readonly ingestBatchSeconds = new Histogram({
    name: 'algwatch_ingest_batch_duration_seconds',
    help: 'Time from a results batch arriving to its acknowledgement, by outcome.',
    labelNames: ['outcome'] as const,
    // Batches are usually stored within a few ms (SQLite) to ~150 ms (InfluxDB, batched writes).
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** One HTTP write of points to InfluxDB (direct or draining the spool). */
  readonly influxWriteSeconds = new Histogram({
    name: 'algwatch_influxdb_write_duration_seconds',
    help: 'Duration of each write to InfluxDB, by outcome (ok or error).',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  /**
   * Requests the reflectors' shared per-source budget let through (answered) or dropped, counted in
   * plain numbers per packet (reflectorTally) and handed to prom-client at each scrape: a labelled
   * counter's inc() per packet cost the STUN reflector 8 % of its answers per CPU-second.
   */
  readonly reflectorTally: Record<ReflectorName, { answered: number; rate_limited: number }> = {
    sip: { answered: 0, rate_limited: 0 },
    stun: { answered: 0, rate_limited: 0 },
  };

  readonly reflectorRequests: Counter<'reflector' | 'outcome'>;

  /** Notifications a channel did not accept after every attempt, per channel kind. */
  readonly notificationFailures = new Counter({
    name: 'algwatch_notification_failures_total',
    help: 'Alert notifications not delivered after every retry, per channel kind (email, slack, webhook).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private agentsConnectedSource: () => number = () => 0;
  private alertsFiringSource: () => Promise<Partial<Record<AlertSeverity, number>>> | Partial<Record<AlertSeverity, number>> = () => ({});
  private spoolBytesSource: () => number = () => 0;

  constructor() {
    // Read at each scrape (prom-client calls collect first): the live values, never a stale copy.
    const sources = this;
    new Gauge({
      name: 'algwatch_agents_connected',
      help: 'Agents connected to this server now (authenticated socket.io connections).',
      registers: [this.registry],
      collect() {
        this.set(sources.agentsConnectedSource());
      },
    });
    new Gauge({
      name: 'algwatch_influxdb_spool_bytes',
      help: 'Bytes of results waiting on disk for InfluxDB (0 while InfluxDB takes writes, or without InfluxDB).',
      registers: [this.registry],
      collect() {
        this.set(sources.spoolBytesSource());
      },
    });
    new Gauge({
      name: 'algwatch_alerts_firing',
      help: 'Alerts firing now, by severity.',
      labelNames: ['severity'] as const,
      registers: [this.registry],
      async collect() {
        // A store that does not answer must not fail the whole scrape: the last values stay.
        const firing = await Promise.resolve()
          .then(() => sources.alertsFiringSource())
          .catch(() => undefined);
        if (firing) for (const severity of ALERT_SEVERITIES) this.set({ severity }, firing[severity] ?? 0);
      },
    });
    const reported = { sip: { answered: 0, rate_limited: 0 }, stun: { answered: 0, rate_limited: 0 } };
    this.reflectorRequests = new Counter({
      name: 'algwatch_reflector_requests_total',
      help: 'SIP and STUN reflector requests answered, or dropped by the per-source rate budget.',
      labelNames: ['reflector', 'outcome'] as const,
      registers: [this.registry],
      collect() {
        for (const reflector of ['sip', 'stun'] as const) {
          for (const outcome of ['answered', 'rate_limited'] as const) {
            const total = sources.reflectorTally[reflector][outcome];
            this.inc({ reflector, outcome }, total - reported[reflector][outcome]);
            reported[reflector][outcome] = total;
          }
        }
      },
    });
    // Every probe and outcome from the start: a series that appears only after the first event
    // makes rate() and alerts on absence misbehave.
    for (const probe of PROBE_NAMES) this.resultsIngested.inc({ probe }, 0);
    for (const reflector of ['sip', 'stun'] as const) {
      for (const outcome of ['answered', 'rate_limited'] as const) this.reflectorRequests.inc({ reflector, outcome }, 0);
    }
    for (const kind of CHANNEL_KINDS) this.notificationFailures.inc({ kind }, 0);
    collectDefaultMetrics({ register: this.registry, prefix: 'algwatch_' });
  }

  /** countAgentsWith makes algwatch_agents_connected read `count` at each scrape. */
  countAgentsWith(count: () => number): void {
    this.agentsConnectedSource = count;
  }

  /** measureSpoolWith makes algwatch_influxdb_spool_bytes read `bytes` at each scrape. */
  measureSpoolWith(bytes: () => number): void {
    this.spoolBytesSource = bytes;
  }

  /**
   * countFiringAlertsWith makes algwatch_alerts_firing read `firing` (alerts firing now, by
   * severity) at each scrape. Alerting calls it once it runs; until then the gauge reads 0.
   */
  countFiringAlertsWith(firing: () => Promise<Partial<Record<AlertSeverity, number>>> | Partial<Record<AlertSeverity, number>>): void {
    this.alertsFiringSource = firing;
  }

  /** recordDelivery counts a notification a channel did not accept (deliver's outcome). */
  recordDelivery(kind: (typeof CHANNEL_KINDS)[number], outcome: { delivered: boolean }): void {
    if (!outcome.delivered) this.notificationFailures.inc({ kind });
  }

  /** recordResults counts newly stored results by probe. */
  recordResults(results: ReadonlyArray<{ probe: ProbeName }>): void {
    for (const result of results) this.resultsIngested.inc({ probe: result.probe });
  }

  /** observeBatch records one batch's time to acknowledgement. */
  readonly observeBatch = (seconds: number, stored: boolean): void => {
    this.ingestBatchSeconds.observe({ outcome: stored ? 'stored' : 'not_stored' }, seconds);
  };

  /** observeInfluxWrite records one write to InfluxDB. */
  readonly observeInfluxWrite = (seconds: number, ok: boolean): void => {
    this.influxWriteSeconds.observe({ outcome: ok ? 'ok' : 'error' }, seconds);
  };
}

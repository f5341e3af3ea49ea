/**
 * ingestResults is the one place agent results enter the server: it validates a batch, stamps the
 * site from the agent's token onto every point, writes the points durably, records the result ids,
 * and only then lets the fan-out (dashboard, alerting) see the results that are new.
 *
 * Order matters for exactly-once storage with at-least-once delivery: points are written BEFORE the
 * ids are marked seen, so a crash in between makes the agent resend and the write repeat (the
 * TimeSeriesStore stores a repeated point once), while marking first could lose the result forever.
 */
import type { Logger } from 'pino';
import { readProbeResult } from '@algwatch/protocol/result-check';
import { z } from 'zod';
import {
  MAX_RESULTS_PER_BATCH,
  probeResultSchema,
  type ProbeResultMessage,
  type RejectedResult,
  type ResultsAck,
} from '@algwatch/protocol/events';
import type { RelationalStore, Site } from '../relational/relational-store.js';
import type { StoredPoint, TimeSeriesStore } from '../storage/time-series.js';
import { SeenResultStore } from '../relational/seen-result-store.js';
import { describeIssues } from './describe-issues.js';
import { resultFingerprint } from './result-fingerprint.js';

/** ResultsFanOut receives each result once, after it is stored; it must not throw (errors are logged). */
export type ResultsFanOut = (site: Site, results: ProbeResultMessage[], agentId: string) => void;

export interface IngestDeps {
  relational: RelationalStore;
  timeSeries: TimeSeriesStore;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  onResults?: ResultsFanOut;
  /** Where results are marked seen: a SeenResultStore over `relational.db` (the default), or a SeenResultsBatcher in front of one. */
  seenResults?: Pick<SeenResultStore, 'markResultsSeen'>;
  /** Where the fingerprints of known ids are read: a SeenResultStore over `relational.db` by default. */
  knownResults?: Pick<SeenResultStore, 'knownFingerprints'>;
  /** Told each batch's time from arrival to acknowledgement and whether it was stored (metrics). */
  onBatchIngested?: (seconds: number, stored: boolean) => void;
}

/** IngestSource is who sent a batch, as established by the token, never by the payload. */
export interface IngestSource {
  site: Site;
  agentId: string;
}

/**
 * The batch envelope alone: results are parsed one by one below, so one bad result is refused for
 * good (listed in `rejected`, dropped by the agent) without holding back the good ones beside it.
 */
const batchEnvelopeSchema = z.object({ results: z.array(z.unknown()).min(1).max(MAX_RESULTS_PER_BATCH) });

export const STORAGE_UNAVAILABLE = 'storage unavailable: results not stored, send them again later';

/**
 * ingestResults returns `{ ok: true, accepted, rejected? }`: accepted lists every valid result id of
 * the batch once it is stored (now or by an earlier delivery); rejected lists each result that failed
 * validation with a one-line reason (never stored; the agent drops it). `{ ok: false, error }` means
 * nothing was acknowledged and the whole batch should be sent again later: the envelope itself is
 * malformed, or storage failed.
 */
export async function ingestResults(deps: IngestDeps, source: IngestSource, payload: unknown): Promise<ResultsAck> {
  const started = performance.now();
  const ack = await ingestBatch(deps, source, payload);
  deps.onBatchIngested?.((performance.now() - started) / 1000, ack.ok);
  return ack;
}

async function ingestBatch(deps: IngestDeps, source: IngestSource, payload: unknown): Promise<ResultsAck> {
  const logFields = { site: source.site.name, tenant: source.site.tenantName, agent: source.agentId };
  const envelope = batchEnvelopeSchema.safeParse(payload);
  if (!envelope.success) {
    const error = `invalid results batch: ${describeIssues(envelope.error)}`;
    deps.log.warn({ ...logFields, reason: error }, 'rejected results batch');
    return { ok: false, error };
  }

  // A batch may repeat an id (an agent outbox bug); the first copy wins, as it would across batches.
  const byId = new Map<string, ProbeResultMessage>();
  const rejected: RejectedResult[] = [];
  for (const [index, raw] of envelope.data.results.entries()) {
    // The measurement schema refuses tags a measurement does not declare, tenant/site/agent included:
    // a point claiming another site is refused here, before anything is stored.
    // The fast check takes well-formed results; anything else gets zod's verdict and message.
    const result = readProbeResult(raw);
    const parsed = result ? { success: true as const, data: result } : probeResultSchema.safeParse(raw);
    if (!parsed.success) {
      rejected.push({ id: rawId(raw), error: `invalid result results.${index}: ${describeIssues(parsed.error)}` });
    } else if (!byId.has(parsed.data.id)) {
      byId.set(parsed.data.id, parsed.data);
    }
  }

  let fresh: ProbeResultMessage[];
  let ids: string[];
  try {
    const seenStore = new SeenResultStore(deps.relational.db);
    const fingerprints = new Map<string, string>();
    for (const [id, result] of byId) fingerprints.set(id, resultFingerprint(source.agentId, result));
    // Ids seen before: the same content again is a resend, acked without writing it twice; other
    // content under a known id would add rows beside the first result's, so it is refused.
    const known = await (deps.knownResults ?? seenStore).knownFingerprints(source.site.id, [...byId.keys()]);
    const unstored: ProbeResultMessage[] = [];
    for (const [id, result] of byId) {
      const stored = known.get(id);
      if (stored === undefined) unstored.push(result);
      else if (stored !== null && stored !== fingerprints.get(id)) {
        byId.delete(id);
        rejected.push({ id, error: `result ${id.slice(0, 100)} was already stored with other content: a result id is used once per site` });
      }
    }
    ids = [...byId.keys()];
    // Stored first, marked seen second: a crash in between costs a harmless rewrite, never a loss.
    const points = unstored.flatMap((result) => storedPoints(source, result));
    if (points.length > 0) await deps.timeSeries.write(points);
    const newIds = unstored.map((result) => result.id);
    const newlySeen = await (deps.seenResults ?? seenStore).markResultsSeen(source.site.id, newIds, fingerprints);
    fresh = newlySeen.map((id) => byId.get(id) as ProbeResultMessage);
  } catch (error) {
    deps.log.error({ ...logFields, err: error }, 'results batch not stored');
    return { ok: false, error: STORAGE_UNAVAILABLE };
  }

  if (rejected.length > 0) {
    // One line per batch, however many results in it were bad.
    deps.log.warn({ ...logFields, rejected: rejected.length, reason: rejected[0]?.error }, 'rejected results');
  }

  if (fresh.length > 0 && deps.onResults) {
    try {
      deps.onResults(source.site, fresh, source.agentId);
    } catch (error) {
      // The results are stored: a failing consumer must not make the agent resend them.
      deps.log.error({ ...logFields, err: error }, 'results fan-out failed');
    }
  }
  return rejected.length > 0 ? { ok: true, accepted: ids, rejected } : { ok: true, accepted: ids };
}

/** rawId is a refused result's id as sent, so the agent can find it in its outbox ('' if there was none). */
function rawId(raw: unknown): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id.slice(0, 100) : '';
}

function storedPoints(source: IngestSource, result: ProbeResultMessage): StoredPoint[] {
  return pointsOfResult(result, { tenant: source.site.tenantName, site: source.site.name, agent: source.agentId });
}

/** pointsOfResult is what ingest stores of one result: the probe's points and the probe_run point. */
export function pointsOfResult(result: ProbeResultMessage, ingestTags: { tenant: string; site: string; agent: string }): StoredPoint[] {
  // Ingest tags last: they come from the token and win over anything the point carries.
  const points: StoredPoint[] = result.points.map((point) => ({
    measurement: point.measurement,
    tags: { ...point.tags, ...ingestTags },
    fields: point.fields,
    // The probe's own start time: a result delivered late from an outbox lands where it happened.
    timestampMs: result.startedAt,
  }));
  points.push({
    measurement: 'probe_run',
    // transport: the three sip-alg runs of one tick share probe, target and often the millisecond,
    // and InfluxDB keeps one point per series and time.
    tags: { probe: result.probe, target: result.target, ...(result.transport ? { transport: result.transport } : {}), ...ingestTags },
    fields: { success: result.success, duration_ms: Math.round(result.durationMs * 1000) / 1000 },
    timestampMs: result.startedAt,
  });
  return points;
}

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
import { INGEST_TAGS } from '@algwatch/protocol/measurements';
import { resultsBatchSchema, type Ack, type ProbeResultMessage } from '@algwatch/protocol/events';
import type { RelationalStore, Site } from '../relational/relational-store.js';
import type { StoredPoint, TimeSeriesStore } from '../storage/time-series.js';
import { describeIssues } from './describe-issues.js';

/** ResultsFanOut receives each result once, after it is stored; it must not throw (errors are logged). */
export type ResultsFanOut = (site: Site, results: ProbeResultMessage[], agentId: string) => void;

export interface IngestDeps {
  relational: RelationalStore;
  timeSeries: TimeSeriesStore;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  onResults?: ResultsFanOut;
}

/** IngestSource is who sent a batch, as established by the token, never by the payload. */
export interface IngestSource {
  site: Site;
  agentId: string;
}

export type ResultsAck = Ack<{ accepted: string[] }>;

export const STORAGE_UNAVAILABLE = 'storage unavailable: results not stored, send them again later';

/**
 * ingestResults returns `{ ok: true, accepted }` with every result id of the batch once they are all
 * stored (now or by an earlier delivery), or `{ ok: false, error }` with a one-line reason when the
 * batch is malformed (nothing stored, do not resend) or storage failed (nothing acknowledged, resend).
 */
export async function ingestResults(deps: IngestDeps, source: IngestSource, payload: unknown): Promise<ResultsAck> {
  const logFields = { site: source.site.name, tenant: source.site.tenantName, agent: source.agentId };
  const parsed = resultsBatchSchema.safeParse(payload);
  const reason = parsed.success ? claimedIngestTag(parsed.data.results) : `invalid results batch: ${describeIssues(parsed.error)}`;
  if (!parsed.success || reason !== undefined) {
    deps.log.warn({ ...logFields, reason }, 'rejected results batch');
    return { ok: false, error: reason ?? 'invalid results batch' };
  }

  // A batch may repeat an id (an agent outbox bug); the first copy wins, as it would across batches.
  const byId = new Map<string, ProbeResultMessage>();
  for (const result of parsed.data.results) if (!byId.has(result.id)) byId.set(result.id, result);
  const ids = [...byId.keys()];

  let fresh: ProbeResultMessage[];
  try {
    const unseen = await deps.relational.unseenResultIds(source.site.id, ids);
    const points = unseen.flatMap((id) => storedPoints(source, byId.get(id) as ProbeResultMessage));
    if (points.length > 0) await deps.timeSeries.write(points);
    const newlySeen = await deps.relational.markResultsSeen(source.site.id, unseen);
    fresh = newlySeen.map((id) => byId.get(id) as ProbeResultMessage);
  } catch (error) {
    deps.log.error({ ...logFields, err: error }, 'results batch not stored');
    return { ok: false, error: STORAGE_UNAVAILABLE };
  }

  if (fresh.length > 0 && deps.onResults) {
    try {
      deps.onResults(source.site, fresh, source.agentId);
    } catch (error) {
      // The results are stored: a failing consumer must not make the agent resend them.
      deps.log.error({ ...logFields, err: error }, 'results fan-out failed');
    }
  }
  return { ok: true, accepted: ids };
}

/**
 * claimedIngestTag refuses a point that sets tenant, site or agent itself: those come from the token,
 * and a token may only ever write its own site. (The measurement schema already refuses unknown tags;
 * this says why, and holds even if a measurement ever declares one of these names.)
 */
function claimedIngestTag(results: ProbeResultMessage[]): string | undefined {
  for (const [index, result] of results.entries()) {
    for (const point of result.points) {
      const claimed = INGEST_TAGS.find((tag) => Object.hasOwn(point.tags, tag));
      if (claimed) return `invalid results batch: results.${index} sets the ${claimed} tag, which the server takes from the agent token`;
    }
  }
  return undefined;
}

function storedPoints(source: IngestSource, result: ProbeResultMessage): StoredPoint[] {
  return result.points.map((point) => ({
    measurement: point.measurement,
    tags: { ...point.tags, tenant: source.site.tenantName, site: source.site.name, agent: source.agentId },
    fields: point.fields,
    // The probe's own start time: a result delivered late from an outbox lands where it happened.
    timestampMs: result.startedAt,
  }));
}

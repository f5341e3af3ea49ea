/**
 * ResultSummary is what the server keeps in memory of one stored probe result: a few bounded
 * fields and its findings, never the agent's raw `detail` (issue 16: one agent token sending 40
 * results with a 450,000-level nested detail took the server from 140 MB to 1.1 GB while the status
 * board held them). Whatever an agent sends, one summary stays within a few kilobytes.
 */
import type { ProbeName, ProbeResultMessage } from '@algwatch/protocol/events';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import type { SipTransport } from '@algwatch/protocol/check-report';
import { clip, findingsOfResult, resultTransportOf, worstFirst, type Finding } from '@algwatch/protocol/findings/index';

/** Longest error and tag/field string kept; the wire allows 500 and 1024. */
export const MAX_SUMMARY_TEXT = 200;

export interface ResultSummary {
  probe: ProbeName;
  target: string;
  transport?: SipTransport;
  startedAt: number;
  success: boolean;
  /** Why the run failed, clipped to one short line. */
  error?: string;
  /** The result's first point (each probe writes one), strings clipped; null when it wrote none. */
  point: MetricPoint | null;
  /** The findings of the result, worst first, evidence bounded by the catalogue. */
  findings: Finding[];
}

/**
 * summarise keeps the bounded part of a result. `siblings` are the site's other newest results,
 * which the catalogue needs to judge a blocked SIP transport (see findingsOfResult).
 */
export function summarise(result: ProbeResultMessage, siblings: readonly ProbeResultMessage[]): ResultSummary {
  const summary: ResultSummary = {
    probe: result.probe,
    target: result.target,
    startedAt: result.startedAt,
    success: result.success,
    point: result.points[0] ? boundedPoint(result.points[0]) : null,
    findings: worstFirst(findingsOfResult(result, siblings)),
  };
  const transport = resultTransportOf(result);
  if (transport) summary.transport = transport;
  if (result.error !== undefined) summary.error = clip(result.error, MAX_SUMMARY_TEXT);
  return summary;
}

/**
 * asResult turns a summary back into the result the catalogue reads, without a detail: enough to
 * judge it again against siblings that arrived later (the point carries every verdict; only the
 * evidence lines came from the detail, and those stay in the summary's findings).
 */
export function asResult(summary: ResultSummary): ProbeResultMessage {
  const result: ProbeResultMessage = {
    id: '00000000-0000-4000-8000-000000000000',
    probe: summary.probe,
    target: summary.target,
    startedAt: summary.startedAt,
    durationMs: 0,
    success: summary.success,
    points: summary.point ? [summary.point] : [],
    detail: null,
  };
  if (summary.transport) result.transport = summary.transport;
  if (summary.error !== undefined) result.error = summary.error;
  return result;
}

/**
 * rejudge is the summary's findings judged against the site's current results: the codes the
 * catalogue raises now, each with the evidence recorded when the result came in where it has it.
 */
export function rejudge(summary: ResultSummary, siblings: readonly ProbeResultMessage[]): Finding[] {
  const recorded = new Map(summary.findings.map((finding) => [finding.code, finding]));
  return worstFirst(findingsOfResult(asResult(summary), siblings).map((finding) => recorded.get(finding.code) ?? finding));
}

function boundedPoint(point: MetricPoint): MetricPoint {
  const tags: MetricPoint['tags'] = {};
  for (const [name, value] of Object.entries(point.tags)) tags[name] = clip(value, MAX_SUMMARY_TEXT);
  const fields: MetricPoint['fields'] = {};
  for (const [name, value] of Object.entries(point.fields)) fields[name] = typeof value === 'string' ? clip(value, MAX_SUMMARY_TEXT) : value;
  return { measurement: point.measurement, tags, fields };
}

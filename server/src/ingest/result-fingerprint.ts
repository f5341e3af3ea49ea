/**
 * resultFingerprint names what ingest stores of a result, so a result id seen before can be told
 * apart: the same content again is a resend (acked as a duplicate), other content under a known id
 * is refused (it would add rows beside the first result's).
 *
 * It covers what becomes rows: the agent, id, probe, target, transport, startedAt, durationMs,
 * success, error and the points. Not `detail`: it is never stored as rows, and only a result's first
 * delivery reaches the dashboard and alerting, so a resend's detail changes nothing.
 *
 * Keys are hashed in the order the agent sent them, not sorted (sorting tripled the cost per result,
 * bench ingest-bounds): a resend comes from the same outbox line, so it has the same order. Were an
 * upgraded agent to resend with another order, the resend would be refused rather than acked; either
 * way the agent drops it, and the result is already stored, since its id was known. Nothing is lost.
 */
import { hash } from 'node:crypto';
import type { ProbeResultMessage } from '@algwatch/protocol/events';

/** resultFingerprint returns the base64 SHA-256 of the result's stored content as this agent sent it. */
export function resultFingerprint(agentId: string, result: ProbeResultMessage): string {
  // JSON.stringify of an array: every string quoted, so no value can imitate a separator.
  const stored = JSON.stringify([
    agentId,
    result.id,
    result.probe,
    result.target,
    result.transport ?? null,
    result.startedAt,
    result.durationMs,
    result.success,
    result.error ?? null,
    result.points,
  ]);
  // One-shot hash (Node ≥ 20.12): no Hash object per result.
  return hash('sha256', stored, 'base64');
}

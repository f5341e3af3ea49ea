/**
 * resultFingerprint names a result's content, so a result id seen before can be told apart: the same
 * content again is a resend (acked as a duplicate), other content under a known id is refused.
 */
import { createHash } from 'node:crypto';
import type { ProbeResultMessage } from '@algwatch/protocol/events';

/**
 * resultFingerprint returns the hex SHA-256 of the result as it would be stored for this agent: every
 * field, object keys sorted so that the order a sender happened to serialise them in does not matter.
 * The agent id is part of it because it becomes a tag of every stored point.
 */
export function resultFingerprint(agentId: string, result: ProbeResultMessage): string {
  const hash = createHash('sha256');
  hash.update(agentId);
  hash.update('\n');
  hash.update(canonicalJson(result));
  return hash.digest('hex');
}

/** canonicalJson is JSON.stringify with object keys in sorted order (arrays keep theirs). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    // undefined members are absent from JSON: leave them out here too.
    if (record[key] !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  }
  return `{${members.join(',')}}`;
}

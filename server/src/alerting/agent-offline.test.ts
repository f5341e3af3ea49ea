import { describe, expect, it } from 'vitest';
import { offlineObservations } from './agent-offline.js';
import type { AgentLastSeen } from './agents-last-seen.js';

const site = { id: 's1', name: 'hq', tenantId: 't1', tenantName: 'acme', createdAt: '' };
const agent = (agentId: string, secondsAgo: number, now: number): AgentLastSeen => ({ site, agentId, hostname: `${agentId}-host`, lastSeenAt: new Date(now - secondsAgo * 1000).toISOString() });

describe('agent offline', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const agents = [agent('gone', 600, now), agent('fresh', 10, now)];

  it('calls an agent offline past the limit, and says nothing of healthy agents without an alert', () => {
    const seen = offlineObservations(agents, { now, startedAt: now - 3_600_000, offlineAfterMs: 90_000, firing: () => false });
    expect(seen.map(({ agent: a, observation }) => [a.agentId, observation.active])).toEqual([['gone', true]]);
    expect(seen[0]?.observation.summary).toContain('gone-host');
  });

  it('calls no agent offline during the first offline period after a start (agents are reconnecting)', () => {
    expect(offlineObservations(agents, { now, startedAt: now - 30_000, offlineAfterMs: 90_000, firing: () => false })).toEqual([]);
  });

  it('reports an agent whose alert fires as back once it was seen again', () => {
    const seen = offlineObservations(agents, { now, startedAt: now - 30_000, offlineAfterMs: 90_000, firing: (_site, id) => id === 'fresh' });
    expect(seen.map(({ agent: a, observation }) => [a.agentId, observation.active])).toEqual([['fresh', false]]);
  });
});

/**
 * The agent_offline rule, evaluated on a timer (absence has no result to react to): an agent whose
 * last hello or heartbeat is older than --agent-offline-after is offline. Right after a server
 * start no agent is called offline until a whole offline period has passed: agents are still
 * reconnecting then, and a restart must not raise a burst of false alerts.
 */
import type { Site } from '../relational/relational-store.js';
import type { AgentLastSeen } from './agents-last-seen.js';
import type { Observation } from './rules/observation.js';

export interface OfflineCheck {
  now: number;
  /** When this server (its alert engine) started, ms. */
  startedAt: number;
  offlineAfterMs: number;
  /** Whether an agent_offline alert of the agent currently fires (only those need a "back" observation). */
  firing(site: Site, agentId: string): boolean;
}

/** offlineObservations returns what the rule says about each agent worth a word now. */
export function offlineObservations(agents: readonly AgentLastSeen[], check: OfflineCheck): Array<{ agent: AgentLastSeen; observation: Observation }> {
  const graceOver = check.now - check.startedAt >= check.offlineAfterMs;
  const observations: Array<{ agent: AgentLastSeen; observation: Observation }> = [];
  for (const agent of agents) {
    const offline = check.now - Date.parse(agent.lastSeenAt) > check.offlineAfterMs;
    if (offline && !graceOver) continue;
    // Healthy agents without an alert say nothing: no record per agent of a 10,000-agent fleet.
    if (!offline && !check.firing(agent.site, agent.agentId)) continue;
    observations.push({
      agent,
      observation: {
        rule: 'agent_offline',
        target: agent.agentId,
        active: offline,
        summary: `agent ${agent.agentId}${agent.hostname ? ` on ${agent.hostname}` : ''} sent no heartbeat since ${agent.lastSeenAt}`,
      },
    });
  }
  return observations;
}

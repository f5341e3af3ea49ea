/**
 * Findings about the agent itself. agent_offline is raised by the server's alert rules when no
 * heartbeat came for --agent-offline-after; no probe result can show it.
 */
import type { FindingDefinition } from './finding.js';

export const AGENT_FINDINGS = {
  agent_offline: {
    code: 'agent_offline',
    source: 'agent',
    defaultSeverity: 'critical',
    title: 'Agent offline',
    impact: "algwatch no longer sees this site: a SIP ALG switched on or bindings getting shorter go unnoticed, and the site's internet link itself may be down (no calls at all).",
    remediation: "Check the site's internet link and the agent's host (powered, cabled, the agent process running); the agent reconnects by itself once it can reach the server.",
  },
} as const satisfies Record<string, FindingDefinition>;

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
  site_no_results: {
    code: 'site_no_results',
    source: 'agent',
    defaultSeverity: 'warning',
    title: 'Site sends no results',
    impact:
      "The site's agent is connected and sends heartbeats, but no probe results: algwatch is blind to this site's SIP ALG, NAT bindings and keep-alive targets although the agent looks alive.",
    remediation:
      "Run `algwatch-server site show SITE`: a schedule with every probe off, or an outbox that keeps growing, says why. Otherwise look at the agent's log on the site box (a probe that hangs, a full disk) and restart the agent.",
  },
} as const satisfies Record<string, FindingDefinition>;

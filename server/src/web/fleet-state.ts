/**
 * FleetState keeps, per site, the newest result of each probe, target and transport (fed by
 * ingest's results fan-out) and turns them into the fleet page's FleetRow and the site page's
 * latest SIP ALG checks. In memory: after a restart a site shows "no result yet" until its agents
 * report again (the SIP ALG check every 5 minutes, STUN every minute by default).
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { FleetRow, KeepaliveTargetState, SipAlgCheck, SiteState } from '@algwatch/protocol/dashboard';
import { NAT_BEHAVIOURS, type NatBehaviour } from '@algwatch/protocol/measurements';
import { SIP_TRANSPORTS, sipAlgTransportReportSchema, type SipTransport } from '@algwatch/protocol/check-report';
import { SEVERITY_RANK, type Finding } from '@algwatch/protocol/findings/index';

/** Kept per site at most: probes x targets x transports of one site stay far below this. */
const MAX_RESULTS_PER_SITE = 64;


/** The facts of a site the fleet row needs besides its results. */
export interface SiteFacts {
  siteId: string;
  tenant: string;
  site: string;
  agentsOnline: number;
  agentsTotal: number;
  firingAlerts: number;
}

export class FleetState {
  private readonly latest = new Map<string, Map<string, ProbeResultMessage>>();

  /** record keeps the newest result per probe, target and transport of the site. */
  record(siteId: string, results: readonly ProbeResultMessage[]): void {
    let bySite = this.latest.get(siteId);
    if (!bySite) this.latest.set(siteId, (bySite = new Map()));
    for (const result of results) {
      const key = `${result.probe} ${result.target} ${result.transport ?? result.points[0]?.tags.transport ?? ''}`;
      const known = bySite.get(key);
      if (known && known.startedAt > result.startedAt) continue;
      bySite.delete(key);
      bySite.set(key, result);
      if (bySite.size > MAX_RESULTS_PER_SITE) bySite.delete(bySite.keys().next().value as string);
    }
  }

  /** forget drops a site's results (the site was deleted). */
  forget(siteId: string): void {
    this.latest.delete(siteId);
  }

  /**
   * row builds the site's fleet row from its facts, newest results and findings (the catalogue's
   * verdicts on those results, worst first: they make the row's problems and state).
   */
  row(facts: SiteFacts, findings: readonly Finding[]): FleetRow {
    const results = [...(this.latest.get(facts.siteId)?.values() ?? [])];
    const row: FleetRow = {
      ...facts,
      sipAlg: { udp: null, tcp: null, tls: null },
      natMapping: null,
      natFiltering: null,
      bindingLifetimeS: null,
      bindingOutlivedS: null,
      targets: [],
      publicAddress: null,
      lastResultAt: results.length > 0 ? Math.max(...results.map((r) => r.startedAt)) : null,
      state: 'unknown',
      problems: [],
    };
    // Oldest first, so the newest result of a kind is the one that stays.
    for (const result of results.sort((a, b) => a.startedAt - b.startedAt)) applyResult(row, result);
    row.problems = findings.map((finding) => finding.summary);
    row.state = stateOf(row, findings);
    return row;
  }

  /** sipAlgChecks returns the latest SIP ALG check per transport with its rewrites, UDP first. */
  sipAlgChecks(siteId: string): SipAlgCheck[] {
    const checks = new Map<SipTransport, SipAlgCheck>();
    for (const result of this.latest.get(siteId)?.values() ?? []) {
      if (result.probe !== 'sip-alg') continue;
      const report = sipAlgTransportReportSchema.safeParse(result.detail);
      const transport = (result.transport ?? result.points[0]?.tags.transport) as SipTransport | undefined;
      if (!report.success || !transport || !SIP_TRANSPORTS.includes(transport)) continue;
      const known = checks.get(transport);
      if (known && known.at > result.startedAt) continue;
      checks.set(transport, {
        transport,
        status: report.data.status,
        at: result.startedAt,
        rewrites: report.data.rewrites,
        ...(report.data.reason ? { reason: report.data.reason } : {}),
      });
    }
    return SIP_TRANSPORTS.flatMap((transport) => checks.get(transport) ?? []);
  }
}

function applyResult(row: FleetRow, result: ProbeResultMessage): void {
  for (const point of result.points) {
    const f = point.fields;
    switch (point.measurement) {
      case 'sip_alg': {
        const transport = point.tags.transport as SipTransport | undefined;
        const status = point.tags.result;
        if (transport && SIP_TRANSPORTS.includes(transport) && (status === 'detected' || status === 'clean' || status === 'blocked' || status === 'error')) {
          row.sipAlg[transport] = status;
        }
        break;
      }
      case 'stun_mapping':
        if (typeof f.public_address === 'string' && f.public_address) row.publicAddress = `${f.public_address}${typeof f.public_port === 'number' ? `:${f.public_port}` : ''}`;
        break;
      case 'nat_behavior':
        row.natMapping = natBehaviour(point.tags.mapping);
        row.natFiltering = natBehaviour(point.tags.filtering);
        break;
      case 'binding_lifetime':
        if (f.outlived_max === true) {
          row.bindingLifetimeS = null;
          row.bindingOutlivedS = typeof f.upper_s === 'number' ? f.upper_s : null;
        } else if (typeof f.udp_lifetime_s === 'number') {
          row.bindingLifetimeS = f.udp_lifetime_s;
          row.bindingOutlivedS = null;
        }
        break;
      case 'sip_options':
      case 'crlf_keepalive': {
        const target: KeepaliveTargetState = {
          target: result.target,
          transport: point.tags.transport ?? '',
          state: point.tags.result === 'ok' || f.pong === true || (typeof f.status_code === 'number' && f.status_code > 0) ? 'up' : 'down',
          rttMs: typeof f.rtt_ms === 'number' ? f.rtt_ms : null,
          lossPct: typeof f.loss_pct === 'number' ? f.loss_pct : null,
        };
        row.targets = [...row.targets.filter((t) => !(t.target === target.target && t.transport === target.transport)), target];
        break;
      }
      default:
        break;
    }
  }
}

function natBehaviour(value: string | undefined): NatBehaviour | null {
  return value !== undefined && (NAT_BEHAVIOURS as readonly string[]).includes(value) ? (value as NatBehaviour) : null;
}

/** stateOf is the worst finding's severity; a firing alert makes it at least a warning; info is ok. */
function stateOf(row: FleetRow, findings: readonly Finding[]): SiteState {
  const worst = Math.max(0, ...findings.map((finding) => SEVERITY_RANK[finding.severity]));
  if (worst >= SEVERITY_RANK.critical) return 'critical';
  if (worst >= SEVERITY_RANK.warning || row.firingAlerts > 0) return 'warning';
  return row.lastResultAt === null ? 'unknown' : 'ok';
}

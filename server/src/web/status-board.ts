/**
 * StatusBoard keeps the latest result of each probe and target per site, fed by ingest's fan-out,
 * and renders the server's status page: every site, its agents' last contact, and what the latest
 * probes found. It is the first thing `npm start` points at; it reads no time series, so it works
 * the same over InfluxDB and SQLite.
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { RelationalStore, Site } from '../relational/relational-store.js';

interface LatestResult {
  siteName: string;
  tenantName: string;
  result: ProbeResultMessage;
}

/** Kept per site at most: probes x targets x transports of one site stay far below this. */
const MAX_RESULTS_PER_SITE = 64;

export class StatusBoard {
  private readonly latest = new Map<string, Map<string, LatestResult>>();

  /** record keeps the newest result per probe, target and transport of the site. */
  record(site: Site, results: readonly ProbeResultMessage[]): void {
    let bySite = this.latest.get(site.id);
    if (!bySite) this.latest.set(site.id, (bySite = new Map()));
    for (const result of results) {
      const transport = result.points[0]?.tags.transport ?? '';
      const key = `${result.probe} ${result.target} ${transport}`;
      const known = bySite.get(key);
      if (known && known.result.startedAt > result.startedAt) continue;
      bySite.delete(key);
      bySite.set(key, { siteName: site.name, tenantName: site.tenantName, result });
      if (bySite.size > MAX_RESULTS_PER_SITE) bySite.delete(bySite.keys().next().value as string);
    }
  }

  /** renderPage is the HTML status page; it refreshes itself every 10 s. */
  async renderPage(relational: Pick<RelationalStore, 'listSites'>): Promise<string> {
    const sites = await relational.listSites();
    const rows = sites
      .map((site) => {
        const findings = [...(this.latest.get(site.id)?.values() ?? [])]
          .sort((a, b) => a.result.probe.localeCompare(b.result.probe))
          .map(({ result }) => `<li class="${verdictClass(result)}">${escapeHtml(describeResult(result))}</li>`)
          .join('');
        return (
          `<tr><td>${escapeHtml(site.tenantName)}</td><td>${escapeHtml(site.name)}</td><td>${site.agents}</td>` +
          `<td>${escapeHtml(site.lastSeenAt ?? 'never')}</td><td><ul>${findings || '<li>no results since the server started</li>'}</ul></td></tr>`
        );
      })
      .join('\n');
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>algwatch status</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4em .6em;text-align:left;vertical-align:top}ul{margin:0;padding-left:1.2em}
.bad{color:#b00020;font-weight:600}.warn{color:#a65e00}.ok{color:#1b5e20}
</style></head><body>
<h1>algwatch: ${sites.length} site${sites.length === 1 ? '' : 's'}</h1>
<table><thead><tr><th>Tenant</th><th>Site</th><th>Agents</th><th>Last contact</th><th>Latest findings</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="5">No sites yet: enroll one with <code>algwatch-server site add NAME</code>.</td></tr>'}
</tbody></table></body></html>
`;
  }
}

function describeResult(result: ProbeResultMessage): string {
  const point = result.points[0];
  const when = new Date(result.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  const transport = point?.tags.transport ? `/${point.tags.transport}` : '';
  const head = `${when} ${result.probe}${transport} → ${result.target}`;
  if (!point) return `${head}: ${result.error ?? 'no answer'}`;
  const f = point.fields;
  switch (point.measurement) {
    case 'sip_alg':
      return `${head}: ${f.alg_detected ? `SIP ALG DETECTED (${String(f.rewritten_fields)})` : (point.tags.result ?? 'clean')}`;
    case 'stun_mapping':
      return `${head}: public ${String(f.public_address)}:${String(f.public_port)}${f.nat_present ? ' (NAT)' : ''}`;
    case 'nat_behavior':
      return `${head}: mapping ${point.tags.mapping ?? '?'}, filtering ${point.tags.filtering ?? '?'}`;
    case 'binding_lifetime':
      return `${head}: ${f.outlived_max ? `bindings outlive ${String(f.upper_s)} s` : `idle UDP bindings expire after ${String(f.udp_lifetime_s)} s`}`;
    default:
      return `${head}: ${point.tags.result ?? ''}${typeof f.rtt_ms === 'number' ? ` ${f.rtt_ms.toFixed(1)} ms` : ''}`;
  }
}

function verdictClass(result: ProbeResultMessage): string {
  const point = result.points[0];
  if (point?.fields.alg_detected === true) return 'bad';
  if (!result.success) return 'warn';
  if (point?.measurement === 'binding_lifetime' && typeof point.fields.udp_lifetime_s === 'number' && point.fields.udp_lifetime_s < 120 && !point.fields.outlived_max) return 'warn';
  return 'ok';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

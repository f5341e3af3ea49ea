/**
 * renderStatusPage draws the server's status page: every site, its agents' last contact, what is
 * wrong there (the catalogue's findings, worst first) and its newest probe results. Colours are the
 * catalogue's severities, so the page never grades a result differently from `check` or the alerts.
 */
import { compareFindings, worstSeverity, type Finding } from '@algwatch/protocol/findings/index';
import type { SiteSummary } from '../relational/relational-store.js';
import type { ResultSummary } from './result-summary.js';

export interface SiteOnPage {
  site: SiteSummary;
  results: readonly ResultSummary[];
}

export function renderStatusPage(sites: readonly SiteOnPage[]): string {
  const rows = sites
    .map(({ site, results }) => {
      const findings = results.flatMap((result) => result.findings).sort(compareFindings)
        .map((finding) => `<li class="${finding.severity}">${finding.severity.toUpperCase()}: ${escapeHtml(finding.summary)}<br><small>${escapeHtml(finding.remediation)}</small></li>`)
        .join('');
      const latest = results.map((result) => `<li class="${resultClass(result)}">${escapeHtml(describeResult(result))}</li>`).join('');
      return (
        `<tr><td>${escapeHtml(site.tenantName)}</td><td>${escapeHtml(site.name)}</td><td>${site.agents}</td>` +
        `<td>${escapeHtml(site.lastSeenAt ?? 'never')}</td>` +
        `<td><ul>${findings || (results.length > 0 ? '<li class="ok">nothing wrong in the newest results</li>' : '')}</ul></td>` +
        `<td><ul>${latest || '<li>no results since the server started</li>'}</ul></td></tr>`
      );
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>algwatch status</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4em .6em;text-align:left;vertical-align:top}ul{margin:0;padding-left:1.2em}
.critical{color:#b00020;font-weight:600}.warning{color:#a65e00}.info{color:#1a4f8b}.ok{color:#1b5e20}.failed{color:#666}
small{color:#555;font-weight:400}
</style></head><body>
<h1>algwatch: ${sites.length} site${sites.length === 1 ? '' : 's'}</h1>
<table><thead><tr><th>Tenant</th><th>Site</th><th>Agents</th><th>Last contact</th><th>Findings</th><th>Latest results</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6">No sites yet: enroll one with <code>algwatch-server site add NAME</code>.</td></tr>'}
</tbody></table></body></html>
`;
}

/**
 * resultClass is a result's colour: the worst severity among its findings; `ok` when it ran and
 * showed nothing wrong; `failed` (grey) when it did not run and the catalogue does not judge one
 * failed run by itself (a keep-alive target counts as down after several, in the alert rules).
 */
export function resultClass(result: Pick<ResultSummary, 'success'> & { findings: readonly Pick<Finding, 'severity'>[] }): string {
  return worstSeverity(result.findings) ?? (result.success ? 'ok' : 'failed');
}

function describeResult(result: ResultSummary): string {
  const point = result.point;
  const when = new Date(result.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  const transport = result.transport ? `/${result.transport}` : '';
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

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

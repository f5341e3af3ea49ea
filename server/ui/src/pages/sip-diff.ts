/**
 * The SIP ALG check as a readable diff: per direction, each changed header or SDP line as sent and
 * as received, with the part the router rewrote highlighted (what lies between the common start
 * and the common end of the two lines).
 */
import type { SipAlgCheck } from '@algwatch/protocol/dashboard';
import type { SipRewrite } from '@algwatch/protocol/check-report';
import { clock, esc } from '../format.js';

/** splitChange returns [same start, changed middle, same end] of `line` against `other`. */
export function splitChange(line: string, other: string): [string, string, string] {
  let start = 0;
  while (start < line.length && start < other.length && line[start] === other[start]) start++;
  let end = 0;
  while (end < line.length - start && end < other.length - start && line[line.length - 1 - end] === other[other.length - 1 - end]) end++;
  return [line.slice(0, start), line.slice(start, line.length - end), line.slice(line.length - end)];
}

function highlighted(line: string, other: string, kind: 'del' | 'ins'): string {
  const [head, changed, tail] = splitChange(line, other);
  return `${esc(head)}<${kind}>${esc(changed)}</${kind}>${esc(tail)}`;
}

const DIRECTIONS: Array<[SipRewrite['direction'], string]> = [
  ['outbound', 'Outbound (phone → provider): what the reflector received'],
  ['inbound', 'Inbound (provider → phone): what came back'],
];

export function sipDiffHtml(checks: SipAlgCheck[]): string {
  if (checks.length === 0) return '<p class="empty">No SIP ALG check since the server started: use “Run check now”.</p>';
  return checks
    .map((check) => {
      const head = `<h3>SIP over ${check.transport.toUpperCase()}: <span class="alg ${check.status}">${check.status}</span> <small>${clock(check.at)}</small></h3>`;
      if (check.status !== 'detected') return `${head}${check.reason ? `<p>${esc(check.reason)}</p>` : '<p>Every header and SDP line arrived as sent.</p>'}`;
      const sections = DIRECTIONS.map(([direction, title]) => {
        const rewrites = check.rewrites.filter((r) => r.direction === direction);
        if (rewrites.length === 0) return `<p>${title}: unchanged.</p>`;
        const rows = rewrites
          .map((r) => `<tr><th>${esc(r.field)}</th><td class="sent">${highlighted(r.sent, r.received, 'del')}</td><td class="received">${highlighted(r.received, r.sent, 'ins')}</td></tr>`)
          .join('');
        return `<table class="diff" data-transport="${check.transport}" data-direction="${direction}"><caption>${title}</caption><thead><tr><th>Line</th><th>Sent</th><th>Received</th></tr></thead><tbody>${rows}</tbody></table>`;
      });
      return head + sections.join('');
    })
    .join('');
}

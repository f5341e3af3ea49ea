import { describe, expect, it } from 'vitest';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { MAX_EVIDENCE_CHARS, MAX_EVIDENCE_LINES } from '@algwatch/protocol/findings/index';
import type { SiteSummary } from '../relational/relational-store.js';
import { algSip, blockedSip, cleanSip, sipAlgResult, siteWithEveryProblem, stunMappingResult } from '../../../test/helpers/probe-results.js';
import { StatusBoard } from './status-board.js';

const site: SiteSummary = {
  id: 'site-1', name: 'Branch <1>', tenantId: 't', tenantName: 'Acme', createdAt: '2026-12-01T00:00:00Z', activeTokens: 1, agents: 1, lastSeenAt: '2026-12-01T22:00:00Z',
};

/** deeplyNested builds the kind of detail issue 16 was about: an object nested `levels` deep. */
function deeplyNested(levels: number): unknown {
  let nested: unknown = { end: true };
  for (let i = 0; i < levels; i++) nested = { deeper: nested };
  return nested;
}

describe('StatusBoard', () => {
  it("lists a site's findings worst first, with the ALG's rewritten headers as evidence", () => {
    const board = new StatusBoard();
    board.record(site, siteWithEveryProblem());
    const findings = board.findings(site.id);
    expect(findings.map((f) => [f.code, f.severity])).toEqual([
      ['sip_alg_udp', 'critical'],
      ['udp_binding_short', 'critical'],
      ['sip_tls_blocked', 'warning'],
      ['nat_symmetric', 'warning'],
      ['udp_binding_short', 'warning'],
    ]);
    expect(findings[0]!.evidence).toContain('outbound Via: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK1;rport -> SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK1;rport');
    expect(board.findings('unknown-site')).toEqual([]);
  });

  it('keeps the newest result per probe, target and transport, whatever order they arrive in', () => {
    const board = new StatusBoard();
    const newer = { ...sipAlgResult('udp', cleanSip), startedAt: Date.parse('2026-12-01T22:05:00Z') };
    board.record(site, [newer]);
    board.record(site, [sipAlgResult('udp', algSip)]); // older: the ALG was switched off since
    expect(board.siteSummary(site.id).map((s) => [s.probe, s.transport, s.point?.tags.result])).toEqual([['sip-alg', 'udp', 'clean']]);
    expect(board.findings(site.id)).toEqual([]);
  });

  it('judges a blocked TLS again when the UDP result that proves the reflector answers comes later', () => {
    const board = new StatusBoard();
    board.record(site, [sipAlgResult('tls', blockedSip('tls'))]);
    expect(board.findings(site.id)).toEqual([]);
    board.record(site, [sipAlgResult('udp', cleanSip)]);
    expect(board.findings(site.id).map((f) => [f.code, f.severity, f.transport])).toEqual([['sip_tls_blocked', 'warning', 'tls']]);
  });

  it('keeps a bounded summary, never the detail: 40 results with a deeply nested detail stay a few kilobytes', () => {
    const board = new StatusBoard();
    const hostile = deeplyNested(100_000);
    const flood = { ...algSip, rewrites: Array.from({ length: 100 }, (_, i) => ({ direction: 'outbound' as const, field: `X-${i}`, sent: 'a'.repeat(500), received: 'b' })) };
    const results: ProbeResultMessage[] = [];
    for (let i = 0; i < 40; i++) {
      const base = i === 0 ? sipAlgResult('udp', flood) : { ...stunMappingResult(true), target: `reflector-${i}` };
      results.push(i === 0 ? base : { ...base, detail: hostile, error: 'e'.repeat(500) });
    }
    board.record(site, results);
    const kept = board.siteSummary(site.id);
    expect(kept).toHaveLength(40);
    for (const summary of kept) expect(summary).not.toHaveProperty('detail');
    const [alg] = board.findings(site.id);
    expect(alg!.evidence).toHaveLength(MAX_EVIDENCE_LINES);
    expect(alg!.evidence.every((line) => line.length <= MAX_EVIDENCE_CHARS)).toBe(true);
    // Everything the board holds for the site, serialised: 40 results, one with 20 evidence lines.
    expect(JSON.stringify(kept).length).toBeLessThan(40 * 1024);
  });

  it('colours each result and finding on the page with the catalogue severity, HTML-escaped', async () => {
    const board = new StatusBoard();
    board.record(site, siteWithEveryProblem());
    const page = await board.renderPage({ listSites: async () => [site] });
    expect(page).toContain('<td>Branch &lt;1&gt;</td>');
    expect(page).toContain('<li class="critical">CRITICAL: SIP ALG is rewriting SIP over UDP (outbound and inbound: Via, Contact, SDP c=)');
    expect(page).toContain('<li class="critical">2026-12-01 22:00:00 binding-lifetime → reflector-a: idle UDP bindings expire after 20 s</li>');
    expect(page).toContain('<li class="warning">2026-12-01 22:00:00 binding-lifetime → reflector-b: idle UDP bindings expire after 90 s</li>');
    expect(page).toContain('<li class="warning">2026-12-01 22:00:00 sip-alg/tls → reflector.example.net: blocked</li>');
    expect(page).toContain('<li class="ok">2026-12-01 22:00:00 sip-alg/tcp → reflector.example.net: clean</li>');
  });
});

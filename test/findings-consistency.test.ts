/**
 * One site's results, fed to every consumer of the findings catalogue, must be graded the same by
 * each: check's problem list and its human report, the server's status board (its findings and the
 * colours of its page), and the Grafana dashboards' colours. The site shows what MSPs meet: the
 * kernel ALG rewriting SIP over UDP, TLS blocked, a symmetric NAT, and bindings of 20 s and 90 s.
 */
import { describe, expect, it } from 'vitest';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { BindingLifetimeReport, CheckReport, NatReport, SipAlgTransportReport } from '@algwatch/protocol/check-report';
import { findingsOfResults, type Finding, type Severity } from '@algwatch/protocol/findings/index';
import { findProblems } from '../agent/src/check/problems.js';
import { renderHumanReport } from '../agent/src/check/human-report.js';
import { StatusBoard } from '../server/src/web/status-board.js';
import type { SiteSummary } from '../server/src/relational/relational-store.js';
import { fleetOverview } from '../dashboards/src/fleet-overview.js';
import { siteDetail } from '../dashboards/src/site-detail.js';
import type { Dashboard, FieldDefaults, ValueMapping } from '../dashboards/src/grafana.js';
import { siteWithEveryProblem } from './helpers/probe-results.js';
import { mappingColor, severityOfColor, thresholdColor } from './helpers/grafana-thresholds.js';

/** A thing a consumer grades: "sip-alg/udp", "nat-behavior", "binding-lifetime reflector-a". */
type Subject = string;
type Grades = Record<Subject, Severity | null>;

const results = siteWithEveryProblem();
const site: SiteSummary = { id: 'site-7', name: 'branch7', tenantId: 't', tenantName: 'acme', createdAt: '2026-12-01T00:00:00Z', activeTokens: 1, agents: 1, lastSeenAt: null };

function subjectOf(result: ProbeResultMessage): Subject {
  if (result.probe === 'sip-alg') return `sip-alg/${result.transport}`;
  if (result.probe === 'binding-lifetime') return `binding-lifetime ${result.target}`;
  return result.probe;
}

/** Every subject starts as "nothing wrong"; a grade only ever rises. */
function grades(mark: (grade: (subject: Subject, severity: Severity | null) => void) => void): Grades {
  const found: Grades = Object.fromEntries(results.map((result) => [subjectOf(result), null]));
  const rank = { critical: 3, warning: 2, info: 1 } as const;
  mark((subject, severity) => {
    expect(Object.keys(found)).toContain(subject);
    const known = found[subject] ?? null;
    if (severity !== null && (known === null || rank[severity] > rank[known])) found[subject] = severity;
  });
  return found;
}

/** The subject a finding is about, from its code, transport and target. */
function subjectOfFinding(finding: Pick<Finding, 'code' | 'transport' | 'target'>): Subject {
  if (finding.code.startsWith('sip_')) return `sip-alg/${finding.transport}`;
  if (finding.code === 'nat_symmetric') return 'nat-behavior';
  if (finding.code === 'udp_binding_short') return `binding-lifetime ${finding.target}`;
  return finding.code;
}

const CHECK_SUBJECTS: Record<string, Subject> = {
  sip_alg_udp: 'sip-alg/udp', sip_udp_blocked: 'sip-alg/udp', sip_alg_tcp: 'sip-alg/tcp', sip_tcp_blocked: 'sip-alg/tcp',
  sip_tls_intercepted: 'sip-alg/tls', sip_tls_blocked: 'sip-alg/tls', nat_symmetric: 'nat-behavior', stun_failing: 'stun-mapping',
};
const MARKS: Record<string, Severity | null> = { '[FAIL]': 'critical', '[warn]': 'warning', '[info]': 'info', '[ ok ]': null };

/** checkReports is what `check` would print for this site: one check per binding-lifetime target (a check measures one). */
function checkReports(): { target: string; report: CheckReport }[] {
  const sip = (transport: string) => results.find((result) => result.probe === 'sip-alg' && result.transport === transport)!.detail as SipAlgTransportReport;
  const sipAlg = { udp: sip('udp'), tcp: sip('tcp'), tls: sip('tls') };
  const stun = results.find((result) => result.probe === 'stun-mapping')!.detail as { natPresent: boolean; publicAddress: string; publicPort: number; portPreserved: boolean };
  const behaviour = results.find((result) => result.probe === 'nat-behavior')!.detail as Pick<NatReport, 'mapping' | 'filtering'>;
  const nat: NatReport = { present: stun.natPresent, publicAddress: stun.publicAddress, publicPort: stun.publicPort, portPreserved: stun.portPreserved, mapping: behaviour.mapping, filtering: behaviour.filtering };
  return results.filter((result) => result.probe === 'binding-lifetime').map((result) => {
    const { udpSeconds, lowerSeconds, upperSeconds, elapsedMs } = result.detail as BindingLifetimeReport;
    const lifetime = { udpSeconds, lowerSeconds, upperSeconds, elapsedMs };
    return {
      target: result.target,
      report: { version: 1, server: 'reflector.example.net', startedAt: '2026-12-01T22:00:00.000Z', durationMs: 1500, sipAlg, nat, bindingLifetime: lifetime, problems: findProblems(sipAlg, nat, lifetime) },
    };
  });
}

const catalogue = grades((grade) => {
  for (const finding of findingsOfResults(results)) grade(subjectOfFinding(finding), finding.severity);
});

describe('one site, every consumer of the findings catalogue', () => {
  it('the catalogue grades the ALG on UDP and the 20 s binding critical, TLS blocked, the symmetric NAT and the 90 s binding warnings', () => {
    expect(catalogue).toEqual({
      'sip-alg/udp': 'critical',
      'sip-alg/tcp': null,
      'sip-alg/tls': 'warning',
      'stun-mapping': null,
      'nat-behavior': 'warning',
      'binding-lifetime reflector-a': 'critical',
      'binding-lifetime reflector-b': 'warning',
    });
  });

  it("check's problem list grades them the same", () => {
    const checked = grades((grade) => {
      for (const { target, report } of checkReports()) {
        for (const problem of report.problems) grade(problem.code === 'udp_binding_short' ? `binding-lifetime ${target}` : CHECK_SUBJECTS[problem.code]!, problem.severity);
      }
    });
    expect(checked).toEqual(catalogue);
  });

  it("check's human report marks each section as its problem list does", () => {
    const marked = grades((grade) => {
      for (const { target, report } of checkReports()) {
        const text = renderHumanReport(report);
        for (const line of text.split('\n')) {
          const match = /^ {2}(\[.{4}\]) (UDP|TCP|TLS): |^ {2}(\[.{4}\]) mapping |^ {2}(\[.{4}\]) idle UDP bindings/.exec(line);
          if (!match) continue;
          if (match[1]) grade(`sip-alg/${match[2]!.toLowerCase()}`, MARKS[match[1]]!);
          if (match[3]) grade('nat-behavior', MARKS[match[3]]!);
          if (match[4]) grade(`binding-lifetime ${target}`, MARKS[match[4]]!);
        }
        // And the problem list under the sections, as printed.
        for (const problem of report.problems) expect(text).toContain(`${problem.severity.toUpperCase()}: ${problem.summary}`);
      }
    });
    expect(marked).toEqual(catalogue);
  });

  it("the status board's findings and its page's colours grade them the same", async () => {
    const board = new StatusBoard();
    board.record(site, results);
    expect(grades((grade) => board.findings(site.id).forEach((finding) => grade(subjectOfFinding(finding), finding.severity)))).toEqual(catalogue);
    const page = await board.renderPage({ listSites: async () => [site] });
    const coloured = grades((grade) => {
      for (const [, cls, probe, transport, target] of page.matchAll(/<li class="(\w+)">[\d :-]+ ([\w-]+)(?:\/(\w+))? → ([^:]+):/g)) {
        const subject = probe === 'sip-alg' ? `sip-alg/${transport}` : probe === 'binding-lifetime' ? `binding-lifetime ${target}` : probe!;
        grade(subject, cls === 'ok' ? null : (cls as Severity));
      }
    });
    expect(coloured).toEqual(catalogue);
  });

  it("the dashboards' colours grade them the same, and never paint green what the catalogue finds wrong", () => {
    const panel = (dashboard: Dashboard, title: string) => dashboard.panels.find((candidate) => candidate.title === title)!.fieldConfig!;
    const override = (config: ReturnType<typeof panel>, name: string, property: string) =>
      config.overrides.find((o) => o.matcher.options === name)!.properties.find((p) => p.id === property)!.value;
    const site = siteDetail();
    const fleet = fleetOverview();
    const painted = grades((grade) => {
      for (const result of results) {
        const point = result.points[0];
        if (!point) continue;
        switch (point.measurement) {
          case 'sip_alg': {
            // The timeline draws only runs that got an answer (its query filters on the result tag).
            if (!/^(clean|detected)$/.test(point.tags.result!)) continue;
            const [mapping] = override(panel(site, 'SIP ALG per transport'), point.tags.transport!, 'mappings') as ValueMapping[];
            grade(subjectOf(result), severityOfColor(mappingColor(mapping!, point.fields.alg_detected!)));
            break;
          }
          case 'nat_behavior': {
            grade(subjectOf(result), severityOfColor(mappingColor(panel(site, 'NAT mapping and filtering (RFC 4787)').defaults.mappings![0]!, point.fields.mapping_code!)));
            const [fleetMapping] = override(panel(fleet, 'NAT behaviour and UDP binding lifetime per site'), 'mapping_code', 'mappings') as ValueMapping[];
            grade(subjectOf(result), severityOfColor(mappingColor(fleetMapping!, point.fields.mapping_code!)));
            break;
          }
          case 'binding_lifetime': {
            const seconds = point.fields.udp_lifetime_s as number;
            grade(subjectOf(result), severityOfColor(thresholdColor(panel(site, 'UDP binding lifetime').defaults.thresholds!, seconds)));
            const fleetThresholds = override(panel(fleet, 'NAT behaviour and UDP binding lifetime per site'), 'udp_lifetime_s', 'thresholds') as NonNullable<FieldDefaults['thresholds']>;
            grade(subjectOf(result), severityOfColor(thresholdColor(fleetThresholds, seconds)));
            break;
          }
        }
      }
    });
    // TLS got no answer: the ALG timeline leaves a gap (Probe runs shows the failed run) rather than a colour.
    expect(painted).toEqual({ ...catalogue, 'sip-alg/tls': null });
  });
});

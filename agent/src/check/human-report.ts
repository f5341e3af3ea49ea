/**
 * renderHumanReport prints a check for a person at a terminal: one verdict line per finding, then
 * each problem with what it means for calls and what to do.
 */
import type { CheckReport, SipAlgTransportReport } from '@algwatch/protocol/check-report';

const MARK = { ok: '[ ok ]', bad: '[FAIL]', warn: '[warn]', info: '[info]' } as const;

export function renderHumanReport(report: CheckReport): string {
  const lines: string[] = [`algwatch check against ${report.server} (${report.startedAt}, ${(report.durationMs / 1000).toFixed(1)} s)`, ''];
  lines.push('SIP ALG');
  for (const transport of ['udp', 'tcp', 'tls'] as const) lines.push(...sipLines(transport.toUpperCase(), report.sipAlg[transport]));

  lines.push('', 'NAT');
  const nat = report.nat;
  if (!nat) {
    lines.push(`  ${MARK.warn} no STUN answer: NAT type unknown (UDP 3478 blocked?)`);
  } else {
    const local = nat.localAddress ? ` (local ${nat.localAddress}:${nat.localPort})` : '';
    lines.push(
      nat.present
        ? `  ${MARK.info} behind NAT: public ${nat.publicAddress}:${nat.publicPort}${local}, source port ${nat.portPreserved ? 'preserved' : 'changed'}`
        : `  ${MARK.ok} no NAT: this host's address ${nat.publicAddress} is public`,
    );
    const symmetric = nat.mapping === 'address-dependent' || nat.mapping === 'address-and-port-dependent';
    lines.push(`  ${symmetric ? MARK.warn : MARK.ok} mapping ${nat.mapping}, filtering ${nat.filtering}`);
  }

  if (report.bindingLifetime) {
    const lifetime = report.bindingLifetime;
    lines.push('', 'UDP binding lifetime');
    lines.push(
      lifetime.udpSeconds === null
        ? `  ${MARK.ok} bindings outlived the ${lifetime.lowerSeconds} s measured (${(lifetime.elapsedMs / 1000).toFixed(1)} s)`
        : `  ${lifetime.udpSeconds < 120 ? MARK.warn : MARK.ok} idle UDP bindings expire after ${lifetime.udpSeconds} s ` +
            `(alive at ${lifetime.lowerSeconds} s, gone at ${lifetime.upperSeconds} s; measured in ${(lifetime.elapsedMs / 1000).toFixed(1)} s)`,
    );
  }

  lines.push('');
  if (report.problems.length === 0) {
    lines.push('No problems found: SIP passes untouched and NAT bindings behave.');
  } else {
    lines.push(`Problems (${report.problems.length})`);
    const advised = new Set<string>();
    for (const problem of report.problems) {
      // The same advice twice (ALG on UDP and on TCP) is printed once: it is long, and it is one fix.
      const advice = advised.has(problem.remediation) ? 'as above' : problem.remediation;
      advised.add(problem.remediation);
      lines.push(`  ${problem.severity.toUpperCase()}: ${problem.summary}`, `    what to do: ${advice}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function sipLines(label: string, report: SipAlgTransportReport): string[] {
  const rtt = report.rttMs === null ? '' : ` (${report.rttMs.toFixed(1)} ms)`;
  switch (report.status) {
    case 'clean':
      return [`  ${MARK.ok} ${label}: untouched${rtt}`];
    case 'blocked':
      return [`  ${MARK.bad} ${label}: no answer — ${report.reason ?? 'blocked or dropped'}`];
    case 'error':
      return [`  ${MARK.warn} ${label}: could not test — ${report.reason ?? 'error'}`];
    case 'detected':
      return [
        `  ${MARK.bad} ${label}: SIP ALG detected, ${report.rewrites.length} rewrite(s)${rtt}`,
        ...report.rewrites.map((rewrite) => `         ${rewrite.direction.padEnd(8)} ${rewrite.field}: ${rewrite.sent}  ->  ${rewrite.received}`),
      ];
  }
}

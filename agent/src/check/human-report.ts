/**
 * renderHumanReport prints a check for a person at a terminal: one verdict line per measurement,
 * then each problem with what it means for calls and what to do. A section's mark is the severity
 * of its problem in the list below it (from the findings catalogue), so the two never disagree.
 */
import type { CheckReport, Problem, RtpReport, SipAlgTransportReport, SipTransport } from '@algwatch/protocol/check-report';
import { worstSeverity } from '@algwatch/protocol/findings/index';

/** The mark of a line: a severity's, `ok` when nothing is wrong, `untested` when it could not be judged. */
const MARK = { ok: '[ ok ]', critical: '[FAIL]', warning: '[warn]', info: '[info]', untested: '[ -- ]' } as const;

/** markOf is the mark of the worst of the report's problems with one of these codes; `otherwise` when none. */
function markOf(problems: readonly Problem[], codes: readonly string[], otherwise: keyof typeof MARK = 'ok'): string {
  const severity = worstSeverity(problems.filter((problem) => codes.includes(problem.code)));
  return MARK[severity ?? otherwise];
}

/** The problem codes a SIP transport's verdict line stands for. */
const SIP_CODES: Record<SipTransport, readonly string[]> = {
  udp: ['sip_alg_udp', 'sip_udp_blocked'],
  tcp: ['sip_alg_tcp', 'sip_tcp_blocked'],
  tls: ['sip_tls_intercepted', 'sip_tls_blocked'],
};

export function renderHumanReport(report: CheckReport): string {
  const lines: string[] = [`algwatch check against ${report.server} (${report.startedAt}, ${(report.durationMs / 1000).toFixed(1)} s)`, ''];
  lines.push('SIP ALG');
  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    const judged = report.sipAlg[transport].status === 'clean' || report.sipAlg[transport].status === 'detected';
    const mark = markOf(report.problems, SIP_CODES[transport], judged ? 'ok' : 'untested');
    lines.push(...sipLines(transport.toUpperCase(), report.sipAlg[transport], mark));
  }

  lines.push('', 'NAT');
  const nat = report.nat;
  if (!nat) {
    lines.push(`  ${markOf(report.problems, ['stun_failing'], 'untested')} no STUN answer: NAT type unknown (UDP 3478 blocked?)`);
  } else {
    const local = nat.localAddress ? ` (local ${nat.localAddress}:${nat.localPort})` : '';
    lines.push(
      nat.present
        ? `  ${MARK.info} behind NAT: public ${nat.publicAddress}:${nat.publicPort}${local}, source port ${nat.portPreserved ? 'preserved' : 'changed'}`
        : `  ${MARK.ok} no NAT: this host's address ${nat.publicAddress} is public`,
    );
    lines.push(`  ${markOf(report.problems, ['nat_symmetric'], nat.mapping === 'unknown' ? 'untested' : 'ok')} mapping ${nat.mapping}, filtering ${nat.filtering}`);
  }

  if (report.bindingLifetime) {
    const lifetime = report.bindingLifetime;
    lines.push('', 'UDP binding lifetime');
    lines.push(
      lifetime.udpSeconds === null
        ? `  ${MARK.ok} bindings outlived the ${lifetime.lowerSeconds} s measured (${(lifetime.elapsedMs / 1000).toFixed(1)} s)`
        : `  ${markOf(report.problems, ['udp_binding_short'])} idle UDP bindings expire after ${lifetime.udpSeconds} s ` +
            `(alive at ${lifetime.lowerSeconds} s, gone at ${lifetime.upperSeconds} s; measured in ${(lifetime.elapsedMs / 1000).toFixed(1)} s)`,
    );
  }

  if (report.rtp) lines.push('', 'RTP path (test call)', ...rtpLines(report.rtp, report.problems));

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

function sipLines(label: string, report: SipAlgTransportReport, mark: string): string[] {
  const rtt = report.rttMs === null ? '' : ` (${report.rttMs.toFixed(1)} ms)`;
  switch (report.status) {
    case 'clean':
      return [`  ${mark} ${label}: untouched${rtt}`];
    case 'blocked':
      return [`  ${mark} ${label}: no answer — ${report.reason ?? 'blocked or dropped'}`];
    case 'error':
      return [`  ${mark} ${label}: could not test — ${report.reason ?? 'error'}`];
    case 'busy':
      return [`  ${mark} ${label}: not tested, reflector busy — ${report.reason ?? 'try again shortly'}`];
    case 'detected':
      return [
        `  ${mark} ${label}: SIP ALG detected, ${report.rewrites.length} rewrite(s)${rtt}`,
        ...report.rewrites.map((rewrite) => `         ${rewrite.direction.padEnd(8)} ${rewrite.field}: ${rewrite.sent}  ->  ${rewrite.received}`),
      ];
  }
}

const VERDICT_TEXT: Record<RtpReport['verdict'], string> = {
  'two-way': 'two-way audio',
  'one-way-outbound-only': 'one-way audio: only this site is heard by the far end',
  'one-way-inbound-only': 'one-way audio: only the far end is heard here',
  none: 'no audio in either direction',
};

const INBOUND_PATH_TEXT: Record<RtpReport['inboundPath'], string> = {
  sdp: 'media sent to the SDP address arrives',
  'symmetric-only': 'only symmetric RTP (sent back to where media came from) arrives; media sent to the SDP address does not',
  none: 'no media from the far end arrives',
};

/** rtpLines shows the test call: the verdict, the SDP as sent and as received beside where media came from, then each direction. */
function rtpLines(rtp: RtpReport, problems: readonly Problem[]): string[] {
  if (rtp.sdpReceived === null) return [`  ${MARK.untested} not tested: ${rtp.reason ?? 'the INVITE got no answer'}`];
  const direction = (name: string, d: RtpReport['outbound']) =>
    `         ${name.padEnd(8)} sent ${d.sent}, received ${d.received}, loss ${d.lossPct} %, jitter ${d.jitterMs} ms, longest gap ${d.maxGapMs} ms` +
    (d.reordered ? `, ${d.reordered} reordered` : '');
  const score = rtp.mos === null ? '' : ` — MOS ${rtp.mos.toFixed(2)} (R ${rtp.rFactor})`;
  const lines = [
    `  ${markOf(problems, ['rtp_no_audio', 'rtp_one_way_audio', 'rtp_poor_mos'])} ${VERDICT_TEXT[rtp.verdict]}${score}`,
    `         ${INBOUND_PATH_TEXT[rtp.inboundPath]}`,
    `         SDP media address: sent ${rtp.sdpSent}, reflector received ${rtp.sdpReceived}; media came from ${rtp.mediaSource ?? 'nowhere'}`,
    direction('outbound', rtp.outbound),
    direction('inbound', rtp.inbound),
  ];
  if (rtp.pinholeOpenToOthers !== null) {
    lines.push(`  ${markOf(problems, ['rtp_pinhole_open'])} RTP pinhole ${rtp.pinholeOpenToOthers ? `lets in other senders (got through: ${(rtp.pinholeOpenFrom ?? []).map((from) => (from === 'other-port' ? "another port of the far end's address" : 'another address')).join(', ')})` : 'admits only the far end'}`);
  }
  if (rtp.reason) lines.push(`         ${rtp.reason}`);
  return lines;
}

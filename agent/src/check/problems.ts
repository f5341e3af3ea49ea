/**
 * findProblems grades what `check` measured with the findings catalogue
 * (@algwatch/protocol/findings/index) and turns each finding into the `problems` entry of check's
 * JSON: code, severity, summary, and a remediation that says what it does to calls, then what to do.
 * No threshold or wording lives here: the catalogue is the one place, shared with the server.
 */
import { SIP_TRANSPORTS, type BindingLifetimeReport, type CheckReport, type NatReport, type Problem, type RtpReport } from '@algwatch/protocol/check-report';
import {
  FINDINGS,
  answeredTransports,
  bindingLifetimeFindings,
  natMappingFindings,
  rtpPathFindings,
  sipAlgFindings,
  stunMappingFindings,
  worstFirst,
  type Finding,
} from '@algwatch/protocol/findings/index';

type SipAlgReports = CheckReport['sipAlg'];

/**
 * findProblems lists the problems of one check, worst first (in probe order within a severity).
 * nat null means STUN got no answer; lifetime null means it was not measured (or not answered:
 * check prints why on stderr). seen.stunBusy: STUN was answered "reflector busy", which says nothing
 * about the path. seen.rtp is the test call of `--rtp`; one whose INVITE got no answer raises
 * nothing of its own (the SIP lines say whether UDP signalling is blocked).
 */
export function findProblems(
  sipAlg: SipAlgReports,
  nat: NatReport | null,
  lifetime: BindingLifetimeReport | null,
  seen: { stunBusy?: boolean; rtp?: RtpReport | undefined } = {},
): Problem[] {
  const rtp = seen.rtp;
  const place = {};
  const answered = answeredTransports(sipAlg);
  const findings: Finding[] = [
    ...SIP_TRANSPORTS.flatMap((transport) => sipAlgFindings(transport, sipAlg[transport], place, answered)),
    // STUN unanswered while SIP got through is a blocked STUN port; nothing answering at all is an
    // unreachable reflector, which check reports as "could not run" instead of as four problems.
    ...(nat ? natMappingFindings(nat.mapping, place) : answered.length > 0 && !seen.stunBusy ? stunMappingFindings(false, undefined, place) : []),
    ...(lifetime ? bindingLifetimeFindings(lifetime, place) : []),
    ...(rtp && rtp.sdpReceived !== null ? rtpPathFindings(rtp, place) : []),
  ];
  return worstFirst(findings).map(problemOf);
}

/** problemOf is a finding as check's JSON documents it (README "Problem codes"). */
export function problemOf(finding: Finding): Problem {
  return {
    code: finding.code,
    severity: finding.severity,
    summary: finding.summary,
    remediation: `${FINDINGS[finding.code].impact} ${finding.remediation}`,
  };
}

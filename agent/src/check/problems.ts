/**
 * findProblems grades what `check` measured with the findings catalogue
 * (@algwatch/protocol/findings/index) and turns each finding into the `problems` entry of check's
 * JSON: code, severity, summary, and a remediation that says what it does to calls, then what to do.
 * No threshold or wording lives here: the catalogue is the one place, shared with the server.
 */
import { SIP_TRANSPORTS, type BindingLifetimeReport, type CheckReport, type NatReport, type Problem } from '@algwatch/protocol/check-report';
import {
  FINDINGS,
  answeredTransports,
  bindingLifetimeFindings,
  natMappingFindings,
  sipAlgFindings,
  stunMappingFindings,
  worstFirst,
  type Finding,
} from '@algwatch/protocol/findings/index';

type SipAlgReports = CheckReport['sipAlg'];

/**
 * findProblems lists the problems of one check, worst first (in probe order within a severity).
 * nat null means STUN got no answer; lifetime null means it was not measured (or not answered:
 * check prints why on stderr).
 */
export function findProblems(sipAlg: SipAlgReports, nat: NatReport | null, lifetime: BindingLifetimeReport | null): Problem[] {
  const place = {};
  const answered = answeredTransports(sipAlg);
  const findings: Finding[] = [
    ...SIP_TRANSPORTS.flatMap((transport) => sipAlgFindings(transport, sipAlg[transport], place, answered)),
    // STUN unanswered while SIP got through is a blocked STUN port; nothing answering at all is an
    // unreachable reflector, which check reports as "could not run" instead of as four problems.
    ...(nat ? natMappingFindings(nat.mapping, place) : answered.length > 0 ? stunMappingFindings(false, undefined, place) : []),
    ...(lifetime ? bindingLifetimeFindings(lifetime, place) : []),
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

/**
 * remediationFor gives the site page "what to do": one entry per finding code the site shows, worst
 * first, with the catalogue's title and the finding's remediation text (contract 1: the findings
 * catalogue is the one source of this text).
 */
import { FINDINGS, type Finding } from '@algwatch/protocol/findings/index';

export function remediationFor(findings: readonly Finding[]): Array<{ title: string; text: string }> {
  const seen = new Set<string>();
  const advice: Array<{ title: string; text: string }> = [];
  for (const finding of findings) {
    if (seen.has(finding.code)) continue;
    seen.add(finding.code);
    advice.push({ title: FINDINGS[finding.code].title, text: finding.remediation });
  }
  return advice;
}

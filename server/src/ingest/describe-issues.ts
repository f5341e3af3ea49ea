import type { $ZodError } from 'zod/v4/core';

const MAX_ISSUES = 3;

/**
 * describeIssues turns a zod error into one line: `path: message` for the first few issues, so an
 * agent's log and the server's log say exactly which field of which result was wrong. It takes core's
 * error, which both the protocol's zod/mini schemas and the server's classic ones report.
 */
export function describeIssues(error: $ZodError): string {
  const shown = error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  const more = error.issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')} (and ${more} more)` : shown.join('; ');
}

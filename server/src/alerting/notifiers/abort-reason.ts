/**
 * Why a notifier's AbortSignal fired, in words for its error: deliver() aborts a slow attempt with an
 * AttemptTimeoutError ("no answer within 10 s"); any other abort is the server stopping.
 */

/** AttemptTimeoutError is the abort reason deliver() gives when an attempt ran out of time. */
export class AttemptTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatSeconds(timeoutMs)}`);
    this.name = 'TimeoutError';
  }
}

/** abortReason says why `signal` aborted: "no answer within 10 s", "timed out" or "aborted: the server is stopping". */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof AttemptTimeoutError) return reason.message;
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  if (reason instanceof Error && reason.name === 'TimeoutError') return 'timed out: no answer in time';
  return 'aborted: the server is stopping';
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

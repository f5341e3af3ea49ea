/**
 * The one HTTP POST the Slack and webhook notifiers share, and the rule that turns its outcome into
 * success or a NotifyError: 2xx accepted; 408, 429 and 5xx retryable (the receiver may take it
 * later); any other status refused for good; a connection failure or an abort retryable. Error
 * messages name the receiver by a display form of its URL the caller chooses (Slack's URL path is
 * its secret), and quote at most a short, single-line piece of the response body.
 */
import { NotifyError } from '../notification.js';
import { abortReason } from './abort-reason.js';

export interface HttpRequest {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** HttpPost sends one POST; injectable so a notifier can be driven without a network in unit tests. */
export type HttpPost = (url: string, request: HttpRequest) => Promise<HttpResponse>;

/** fetchPost is the real HttpPost, on Node's fetch. Rejects on network failure or abort. */
export const fetchPost: HttpPost = async (url, request) => {
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body, signal: request.signal, redirect: 'manual' });
  return { status: response.status, body: await response.text() };
};

/** How much of a refusal's body an error quotes: enough for Slack's "invalid_payload", not a page. */
const QUOTED_BODY_CHARS = 120;

/**
 * postOrThrow sends the request and resolves when the receiver answered 2xx. Throws NotifyError
 * (retryable per the rule above) naming the receiver as `displayUrl`, never the real URL.
 */
export async function postOrThrow(post: HttpPost, url: string, displayUrl: string, request: HttpRequest): Promise<void> {
  let response: HttpResponse;
  try {
    response = await post(url, request);
  } catch (error) {
    if (request.signal.aborted) throw new NotifyError(`${displayUrl}: ${abortReason(request.signal)}`, true);
    throw new NotifyError(`${displayUrl}: ${networkReason(error)}`, true);
  }
  if (response.status >= 200 && response.status < 300) return;
  const quoted = quoteBody(response.body);
  const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
  throw new NotifyError(`${displayUrl} answered HTTP ${response.status}${quoted ? ` (${quoted})` : ''}${retryable ? '' : ': refused, not retried'}`, retryable);
}

/** networkReason says why no HTTP answer came, from the error's cause code (never the URL). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection closed before an answer';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    default:
      // Certificate and other TLS errors carry codes like CERT_HAS_EXPIRED: name the code, nothing more.
      return code ? `request failed (${code})` : 'request failed';
  }
}

function quoteBody(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > QUOTED_BODY_CHARS ? `${line.slice(0, QUOTED_BODY_CHARS)}…` : line;
}

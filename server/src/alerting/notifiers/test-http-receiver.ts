/**
 * Test helper: an HTTP server on 127.0.0.1:0 standing in for Slack or a webhook receiver. It keeps
 * every request (raw body included, for signature checks) and answers as told: a status and body,
 * or never (a hanging receiver). Used by tests only.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What to answer: a status (and body), or 'hang' to read the request and never answer. */
export type HttpAnswer = { status: number; body?: string } | 'hang';

export interface HttpReceiver {
  /** http://127.0.0.1:PORT */
  origin: string;
  requests: ReceivedRequest[];
  /** Answers for the next requests in order, then `then` for the rest. */
  answer(answers: HttpAnswer[], then?: HttpAnswer): void;
  close(): Promise<void>;
}

/** startHttpReceiver starts the receiver; by default it answers 200 "ok" (what Slack says). */
export async function startHttpReceiver(): Promise<HttpReceiver> {
  let queued: HttpAnswer[] = [];
  let fallback: HttpAnswer = { status: 200, body: 'ok' };
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = queued.shift() ?? fallback;
      if (answer === 'hang') return;
      response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    answer(answers, then = { status: 200, body: 'ok' }) {
      queued = [...answers];
      fallback = then;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpReceiver, type HttpAnswer, type HttpReceiver, type ReceivedRequest } from './test-http-receiver.js';
import { runNotifierKit, type KitAnswer } from './test-notifier-kit.js';
import { REWRITTEN_VIA, firingNotification, resolvedNotification } from './test-notifications.js';
import { webhookNotifier, type WebhookBody } from './webhook.js';

const SECRET = 'wh-secret-6f1d0c9e2b7a4e58';
/** A token in the query string is a secret too (many receivers authenticate that way). */
const QUERY_TOKEN = 'q-token-4b1e77';

const ANSWERS: Record<KitAnswer, HttpAnswer> = {
  accept: { status: 204 },
  transient: { status: 502, body: 'bad gateway' },
  permanent: { status: 400, body: 'unexpected payload' },
  hang: 'hang',
};

runNotifierKit({
  kind: 'webhook',
  secrets: [SECRET, QUERY_TOKEN],
  async start(answer) {
    const receiver = await startHttpReceiver();
    receiver.answer([], ANSWERS[answer]);
    const notifier = webhookNotifier({ url: `${receiver.origin}/hooks/algwatch?token=${QUERY_TOKEN}`, secret: SECRET, receiver: 'noc' });
    return { notifier, deliveries: () => receiver.requests.length, close: () => receiver.close() };
  },
  unreachable: (port) => webhookNotifier({ url: `http://127.0.0.1:${port}/hooks/algwatch?token=${QUERY_TOKEN}`, secret: SECRET, receiver: 'noc' }),
});

/** verify is what a receiver does (the README's snippet): HMAC over timestamp + "." + raw body. */
function verify(request: ReceivedRequest, secret: string): boolean {
  const timestamp = request.headers['x-algwatch-timestamp'];
  const signature = request.headers['x-algwatch-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

type ReadmeVerify = (rawBody: string, headers: Record<string, unknown>, secret: string, maxAgeSeconds?: number) => boolean;

/** readmeVerify is the README's verification snippet itself, so the documented scheme is the one sent. */
function readmeVerify(): ReadmeVerify {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
  const snippet = /```js\n([\s\S]*?function verifyAlgwatch[\s\S]*?)```/.exec(readme)?.[1];
  if (!snippet) throw new Error('README.md has no js block with verifyAlgwatch');
  const body = snippet.split('\n').filter((line) => !line.startsWith('import ')).join('\n');
  return new Function('createHmac', 'timingSafeEqual', `${body}\nreturn verifyAlgwatch;`)(createHmac, timingSafeEqual) as ReadmeVerify;
}

describe('webhook message', () => {
  let receiver: HttpReceiver;
  afterEach(async () => receiver?.close());

  it('posts Alertmanager`s webhook shape, signed so the receiver can verify it', async () => {
    receiver = await startHttpReceiver();
    const now = new Date('2026-12-01T22:11:00Z');
    await webhookNotifier({ url: `${receiver.origin}/hooks/algwatch`, secret: SECRET, receiver: 'noc', now: () => now }).notify(firingNotification(), new AbortController().signal);

    const [request] = receiver.requests;
    expect(request?.headers['x-algwatch-timestamp']).toBe(String(now.getTime() / 1000));
    expect(verify(request as ReceivedRequest, SECRET)).toBe(true);
    expect(verify(request as ReceivedRequest, 'another-secret')).toBe(false);
    expect(verify({ ...(request as ReceivedRequest), body: (request?.body ?? '').replace('branch-12', 'branch-13') }, SECRET)).toBe(false);

    const body = JSON.parse(request?.body ?? '') as WebhookBody;
    expect(body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'noc',
      groupKey: 'acme-dental/branch-12',
      groupLabels: { tenant: 'acme-dental', site: 'branch-12' },
      externalURL: 'https://algwatch.msp.example/sites/acme-dental/branch-12',
      truncatedAlerts: 0,
    });
    expect(body.alerts).toEqual([
      {
        status: 'firing',
        labels: { alertname: 'sip_alg_udp', rule: 'sip_alg_udp', severity: 'critical', tenant: 'acme-dental', site: 'branch-12', agent: 'gw-branch-12', transport: 'udp' },
        annotations: expect.objectContaining({
          title: 'SIP ALG rewriting SIP over UDP',
          impact: expect.stringContaining('one-way audio'),
          remediation: expect.stringContaining('Turn off the SIP ALG'),
          evidence: expect.stringContaining(REWRITTEN_VIA),
        }),
        startsAt: '2026-12-01T22:10:05.000Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'https://algwatch.msp.example/sites/acme-dental/branch-12',
        fingerprint: 'f'.repeat(64),
      },
    ]);
    expect(body.commonLabels).toMatchObject({ tenant: 'acme-dental', site: 'branch-12', severity: 'critical' });
    expect(body.algwatch).toMatchObject({ tenant: 'acme-dental', site: 'branch-12', threadId: firingNotification().threadId, test: false });
    expect(body.algwatch.text).toContain(REWRITTEN_VIA);
  });

  it('is accepted by the README`s verification snippet, which refuses a wrong secret, a changed body and an old timestamp', async () => {
    receiver = await startHttpReceiver();
    await webhookNotifier({ url: `${receiver.origin}/hooks`, secret: SECRET, receiver: 'noc' }).notify(firingNotification(), new AbortController().signal);
    const request = receiver.requests[0] as ReceivedRequest;
    const verifyAlgwatch = readmeVerify();
    expect(verifyAlgwatch(request.body, request.headers, SECRET)).toBe(true);
    expect(verifyAlgwatch(request.body, request.headers, 'not-the-secret-at-all')).toBe(false);
    expect(verifyAlgwatch(`${request.body} `, request.headers, SECRET)).toBe(false);

    receiver.requests.length = 0;
    const hourAgo = new Date(Date.now() - 3_600_000);
    await webhookNotifier({ url: `${receiver.origin}/hooks`, secret: SECRET, receiver: 'noc', now: () => hourAgo }).notify(firingNotification(), new AbortController().signal);
    const old = receiver.requests[0] as ReceivedRequest;
    expect(verify(old, SECRET)).toBe(true);
    expect(verifyAlgwatch(old.body, old.headers, SECRET)).toBe(false);
  });

  it('posts the resolution with its end time', async () => {
    receiver = await startHttpReceiver();
    await webhookNotifier({ url: `${receiver.origin}/hooks`, secret: SECRET, receiver: 'noc' }).notify(resolvedNotification(), new AbortController().signal);
    const body = JSON.parse(receiver.requests[0]?.body ?? '') as WebhookBody;
    expect(body.status).toBe('resolved');
    expect(body.alerts[0]).toMatchObject({ status: 'resolved', endsAt: '2026-12-01T23:02:00.000Z' });
    expect(verify(receiver.requests[0] as ReceivedRequest, SECRET)).toBe(true);
  });

  it('names the receiver without its query when it refuses', async () => {
    receiver = await startHttpReceiver();
    receiver.answer([], { status: 401, body: 'bad signature' });
    const error = await webhookNotifier({ url: `${receiver.origin}/hooks?token=${QUERY_TOKEN}`, secret: SECRET, receiver: 'noc' })
      .notify(firingNotification(), new AbortController().signal)
      .catch((caught: Error) => caught);
    expect((error as Error).message).toBe(`webhook ${receiver.origin}/hooks?*** answered HTTP 401 (bad signature): refused, not retried`);
  });
});

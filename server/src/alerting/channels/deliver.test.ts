import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../../relational/open.js';
import type { RelationalStore } from '../../relational/relational-store.js';
import { createSqliteTestDatabase, type TestDatabase } from '../../relational/test-databases.js';
import { startHttpReceiver, type HttpReceiver } from '../notifiers/test-http-receiver.js';
import { closedPort } from '../notifiers/test-notifier-kit.js';
import { firingNotification, resolvedNotification } from '../notifiers/test-notifications.js';
import { startSmtpReceiver, type SmtpReceiver } from '../notifiers/test-smtp-receiver.js';
import { ChannelStore, type Channel } from './channel-store.js';
import { deliver, type DeliveryOptions } from './deliver.js';

const SECRET = 'deliver-test-secret-9c4f21';
const SMTP_PASSWORD = 'deliver-smtp-pa55-7d1e';

describe('deliver', () => {
  let database: TestDatabase;
  let relational: RelationalStore;
  let store: ChannelStore;
  let logged: string;
  let options: DeliveryOptions;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    database = await createSqliteTestDatabase();
    relational = await openRelationalStore(database.options);
    await relational.createSite('branch-12', 'acme-dental');
    store = new ChannelStore(relational.db);
  });
  afterAll(async () => {
    await relational?.close();
    await database?.drop();
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    // Every log line deliver wrote in the test: none may hold a secret.
    for (const secret of [SECRET, SMTP_PASSWORD]) expect(logged).not.toContain(secret);
  });

  const newOptions = (overrides: Partial<DeliveryOptions> = {}): DeliveryOptions => {
    logged = '';
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((logged += chunk.toString()), done()) });
    return { store, smtpFrom: 'algwatch@alerts.msp.example', initialBackoffMs: 20, attemptTimeoutMs: 5_000, log: pino({ level: 'info' }, sink), ...overrides };
  };
  const webhookChannel = async (name: string, receiver: HttpReceiver | string): Promise<Channel> =>
    store.add({ name, destination: { kind: 'webhook', url: `${typeof receiver === 'string' ? receiver : receiver.origin}/hook`, secret: SECRET } });
  const httpReceiver = async () => {
    const receiver = await startHttpReceiver();
    closers.push(() => receiver.close());
    return receiver;
  };
  const smtpReceiver = async (): Promise<SmtpReceiver> => {
    const receiver = await startSmtpReceiver({ password: SMTP_PASSWORD });
    closers.push(() => receiver.close());
    return receiver;
  };

  it('delivers once when the webhook fails 3 times and then accepts, and records the success', async () => {
    const receiver = await httpReceiver();
    receiver.answer([{ status: 503 }, { status: 502 }, { status: 500 }], { status: 200 });
    options = newOptions();
    const channel = await webhookChannel('flaky-hook', receiver);

    const outcome = await deliver(channel, firingNotification(), options);

    expect(outcome).toMatchObject({ channel: 'flaky-hook', delivered: true, attempts: 4 });
    expect(receiver.requests).toHaveLength(4);
    expect((await store.get('flaky-hook'))?.delivery).toMatchObject({ lastError: null, failureCount: 0, lastSuccessAt: outcome.at });
    expect(logged.match(/notification attempt failed/g)).toHaveLength(3);
  });

  it('delivers one email when the SMTP server says "try later" 3 times and then accepts', async () => {
    const receiver = await smtpReceiver();
    receiver.answer(['transient', 'transient', 'transient'], 'accept');
    options = newOptions({ smtpTlsCa: receiver.ca });
    const channel = await store.add({ name: 'flaky-mail', destination: { kind: 'email', to: ['ops@msp.example'], smtpUrl: receiver.url } });

    const outcome = await deliver(channel, firingNotification(), options);

    expect(outcome).toMatchObject({ delivered: true, attempts: 4 });
    expect(receiver.attempts).toBe(4);
    expect(receiver.mails).toHaveLength(1);
    expect(receiver.mails[0]?.mail.subject).toBe('[FIRING] critical · acme-dental/branch-12: SIP ALG rewriting SIP over UDP');
  });

  it('threads the resolution under the firing email across deliveries, and forgets the thread once resolved', async () => {
    const receiver = await smtpReceiver();
    options = newOptions({ smtpTlsCa: receiver.ca });
    const channel = await store.add({ name: 'threaded-mail', destination: { kind: 'email', to: ['ops@msp.example'], smtpUrl: receiver.url } });

    expect(await deliver(channel, firingNotification(), options)).toMatchObject({ delivered: true });
    expect(await database.query(`select thread_id from notification_threads where channel_id = '${channel.id}'`)).toEqual([{ thread_id: firingNotification().threadId }]);
    expect(await deliver(channel, resolvedNotification(), options)).toMatchObject({ delivered: true });

    const [firing, resolution] = receiver.mails.map(({ mail }) => mail);
    expect(resolution?.inReplyTo).toBe(firing?.messageId);
    expect(await database.query(`select thread_id from notification_threads where channel_id = '${channel.id}'`)).toEqual([]);
  });

  it('gives up on an unreachable SMTP server with a clear error recorded on the channel', async () => {
    options = newOptions({ attempts: 3 });
    const port = await closedPort();
    const channel = await store.add({ name: 'dead-mail', destination: { kind: 'email', to: ['ops@msp.example'], smtpUrl: `smtp://alerts:${SMTP_PASSWORD}@127.0.0.1:${port}` } });

    const outcome = await deliver(channel, firingNotification(), options);

    const error = `after 3 attempts: SMTP server 127.0.0.1:${port}: connection refused`;
    expect(outcome).toMatchObject({ delivered: false, attempts: 3, retryable: true, error });
    expect((await store.get('dead-mail'))?.delivery).toMatchObject({ lastError: error, failureCount: 1, lastFailureAt: outcome.at, lastSuccessAt: null });
  });

  it('gives up on a webhook that hangs after the attempt timeout, and records it', async () => {
    const receiver = await httpReceiver();
    receiver.answer([], 'hang');
    options = newOptions({ attempts: 2, attemptTimeoutMs: 300 });
    const channel = await webhookChannel('hanging-hook', receiver);

    const outcome = await deliver(channel, firingNotification(), options);

    const error = `after 2 attempts: webhook ${receiver.origin}/hook: no answer within 0.3 s`;
    expect(outcome).toMatchObject({ delivered: false, attempts: 2, retryable: true, error });
    expect(receiver.requests).toHaveLength(2);
    expect((await store.get('hanging-hook'))?.delivery).toMatchObject({ lastError: error, failureCount: 1 });
  });

  it('does not retry a refusal that retrying cannot fix', async () => {
    const receiver = await httpReceiver();
    receiver.answer([], { status: 401, body: 'bad signature' });
    options = newOptions();
    const channel = await webhookChannel('refusing-hook', receiver);

    const outcome = await deliver(channel, firingNotification(), options);

    expect(outcome).toMatchObject({ delivered: false, attempts: 1, retryable: false, error: `webhook ${receiver.origin}/hook answered HTTP 401 (bad signature): refused, not retried` });
    expect(receiver.requests).toHaveLength(1);
  });

  it('stops retrying when the server stops, and says so', async () => {
    const receiver = await httpReceiver();
    receiver.answer([], { status: 503 });
    const stop = new AbortController();
    options = newOptions({ signal: stop.signal, initialBackoffMs: 60_000 });
    const channel = await webhookChannel('stopping-hook', receiver);

    const delivery = deliver(channel, firingNotification(), options);
    // Stop once the first attempt has failed, i.e. while deliver waits out its backoff.
    while (!logged.includes('notification attempt failed')) await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();
    const outcome = await delivery;

    expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(outcome.delivered === false && outcome.error).toBe(`webhook ${receiver.origin}/hook answered HTTP 503 (gave up: the server is stopping)`);
    expect(receiver.requests).toHaveLength(1);
  });

  it('sends nothing once the server is stopping, and says so', async () => {
    const receiver = await httpReceiver();
    const stop = new AbortController();
    stop.abort();
    options = newOptions({ signal: stop.signal });
    const channel = await webhookChannel('stopped-before-hook', receiver);

    expect(await deliver(channel, firingNotification(), options)).toMatchObject({ delivered: false, attempts: 0, retryable: true, error: 'not sent: the server is stopping' });
    expect(receiver.requests).toHaveLength(0);
  });

  it('cuts an attempt short when the server stops during it', async () => {
    const receiver = await httpReceiver();
    receiver.answer([], 'hang');
    const stop = new AbortController();
    options = newOptions({ signal: stop.signal });
    const channel = await webhookChannel('stopped-hook', receiver);

    const delivery = deliver(channel, firingNotification(), options);
    while (receiver.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();

    expect(await delivery).toMatchObject({ delivered: false, attempts: 1, error: `webhook ${receiver.origin}/hook: aborted: the server is stopping` });
  });

  it('scrubs the channel`s secrets even from an error a receiver echoes back', async () => {
    const receiver = await httpReceiver();
    receiver.answer([], { status: 400, body: `rejected secret ${SECRET}` });
    options = newOptions();
    const channel = await webhookChannel('echoing-hook', receiver);

    const outcome = await deliver(channel, firingNotification(), options);

    expect(outcome.delivered === false && outcome.error).toBe(`webhook ${receiver.origin}/hook answered HTTP 400 (rejected secret ***): refused, not retried`);
    expect((await store.get('echoing-hook'))?.delivery.lastError).not.toContain(SECRET);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { NotifyError } from '../notification.js';
import { emailNotifier, parseSmtpUrl, describeSmtpEndpoint, type EmailThreads } from './email.js';
import { runNotifierKit, startSilentTcpServer, type KitAnswer } from './test-notifier-kit.js';
import { REWRITTEN_VIA, firingNotification, resolvedNotification } from './test-notifications.js';
import { startSmtpReceiver, type SmtpReceiver } from './test-smtp-receiver.js';

const PASSWORD = 'Sm7p-pa55-w0rd-never-logged';
const FROM = 'algwatch@alerts.msp.example';
const TO = ['ops@msp.example', 'oncall@msp.example'];

runNotifierKit({
  kind: 'email',
  secrets: [PASSWORD],
  async start(answer: KitAnswer) {
    if (answer === 'hang') {
      const silent = await startSilentTcpServer();
      return { notifier: emailNotifier({ to: TO, from: FROM, smtpUrl: `smtp://alerts:${PASSWORD}@127.0.0.1:${silent.port}` }), deliveries: silent.connections, close: silent.close };
    }
    const receiver = await startSmtpReceiver({ password: PASSWORD });
    receiver.answer([], answer);
    return { notifier: emailNotifier({ to: TO, from: FROM, smtpUrl: receiver.url, tlsCa: receiver.ca }), deliveries: () => receiver.attempts, close: receiver.close };
  },
  unreachable: (port) => emailNotifier({ to: TO, from: FROM, smtpUrl: `smtp://alerts:${PASSWORD}@127.0.0.1:${port}` }),
});

/** An in-memory EmailThreads, as the ChannelStore keeps it per channel. */
function memoryThreads(): EmailThreads {
  const started = new Set<string>();
  return {
    claimThreadStart: async (threadId) => !started.has(threadId) && started.add(threadId) !== undefined,
    releaseThreadStart: async (threadId) => void started.delete(threadId),
  };
}

describe('email message', () => {
  let receiver: SmtpReceiver;
  afterEach(async () => receiver?.close());

  it('sends text and HTML over STARTTLS, logged in, naming the site, the rewritten Via line, impact and remediation', async () => {
    receiver = await startSmtpReceiver({ password: PASSWORD });
    await emailNotifier({ to: TO, from: FROM, smtpUrl: receiver.url, tlsCa: receiver.ca }).notify(firingNotification(), new AbortController().signal);

    expect(receiver.mails).toHaveLength(1);
    const [{ mail, secure, user, envelopeTo }] = receiver.mails as [SmtpReceiver['mails'][number]];
    expect({ secure, user, envelopeTo }).toEqual({ secure: true, user: 'alerts', envelopeTo: TO });
    expect(mail.from?.text).toBe(FROM);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((address) => address.address) : []).toEqual(TO);
    expect(mail.subject).toBe('[FIRING] critical · acme-dental/branch-12: SIP ALG rewriting SIP over UDP');
    for (const body of [mail.text ?? '', String(mail.html)]) {
      expect(body).toContain('branch-12');
      expect(body).toContain('acme-dental');
      expect(body).toContain('agent gw-branch-12');
      expect(body).toContain('firing since 2026-12-01 22:10:05 UTC');
      expect(body).toContain('Calls drop after 30 s');
      expect(body).toContain('Turn off the SIP ALG');
      expect(body).toContain('https://algwatch.msp.example/sites/acme-dental/branch-12');
    }
    expect(mail.text).toContain(REWRITTEN_VIA);
    // In HTML the "->" of the evidence line is escaped; the parsed text of the HTML part reads as sent.
    expect(String(mail.html)).toContain(REWRITTEN_VIA.replace('->', '-&gt;'));
  });

  it('threads the resolution under the firing mail: In-Reply-To is the firing mail`s Message-ID', async () => {
    receiver = await startSmtpReceiver({ password: PASSWORD });
    const notifier = emailNotifier({ to: TO, from: FROM, smtpUrl: receiver.url, tlsCa: receiver.ca, threads: memoryThreads() });
    await notifier.notify(firingNotification(), new AbortController().signal);
    await notifier.notify(firingNotification(), new AbortController().signal); // a repeat while firing
    await notifier.notify(resolvedNotification(), new AbortController().signal);

    const [firing, repeat, resolution] = receiver.mails.map(({ mail }) => mail);
    expect(firing?.messageId).toMatch(/^<thread-[0-9a-f]{32}@alerts\.msp\.example>$/);
    expect(firing?.inReplyTo).toBeUndefined();
    expect(repeat?.messageId).not.toBe(firing?.messageId);
    expect(repeat?.inReplyTo).toBe(firing?.messageId);
    expect(resolution?.subject).toBe('[RESOLVED] critical · acme-dental/branch-12: SIP ALG rewriting SIP over UDP');
    expect(resolution?.inReplyTo).toBe(firing?.messageId);
    expect(resolution?.references).toBe(firing?.messageId);
    expect(resolution?.messageId).not.toBe(firing?.messageId);
    expect(resolution?.text).toContain('resolved at 2026-12-01 23:02:00 UTC');
  });

  it('speaks TLS from the first byte for smtps://', async () => {
    receiver = await startSmtpReceiver({ password: PASSWORD, implicitTls: true });
    expect(receiver.url).toMatch(/^smtps:/);
    await emailNotifier({ to: TO, from: FROM, smtpUrl: receiver.url, tlsCa: receiver.ca }).notify(firingNotification(), new AbortController().signal);
    expect(receiver.mails.map(({ secure }) => secure)).toEqual([true]);
  });

  it('refuses for good, without the password, when the server refuses the login', async () => {
    receiver = await startSmtpReceiver({ password: PASSWORD });
    const wrong = 'wr0ng-pa55w0rd-abc';
    const error = await emailNotifier({ to: TO, from: FROM, smtpUrl: receiver.url.replace(PASSWORD, wrong), tlsCa: receiver.ca })
      .notify(firingNotification(), new AbortController().signal)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotifyError);
    expect((error as NotifyError).retryable).toBe(false);
    expect((error as NotifyError).message).toMatch(new RegExp(`^SMTP server 127\\.0\\.0\\.1:${receiver.port} refused the login .*check the user and password in --smtp-url$`));
    expect((error as NotifyError).message).not.toContain(wrong);
    expect(receiver.mails).toHaveLength(0);
  });

  it('refuses for good when the server`s certificate is not trusted', async () => {
    receiver = await startSmtpReceiver({ password: PASSWORD, implicitTls: true });
    const error = await emailNotifier({ to: TO, from: FROM, smtpUrl: receiver.url }).notify(firingNotification(), new AbortController().signal).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotifyError);
    expect((error as NotifyError).message).toMatch(/TLS failed \(.*certificate.*\)/);
    expect((error as NotifyError).retryable).toBe(false);
  });
});

describe('parseSmtpUrl', () => {
  it('reads host, port, TLS mode and credentials, and shows them with the password hidden', () => {
    const endpoint = parseSmtpUrl('smtp://ops%40msp:p%40ss@mail.msp.example:587');
    expect(endpoint).toEqual({ host: 'mail.msp.example', port: 587, implicitTls: false, user: 'ops@msp', password: 'p@ss' });
    expect(describeSmtpEndpoint(endpoint as Exclude<typeof endpoint, string>)).toBe('smtp://ops%40msp:***@mail.msp.example:587');
    expect(parseSmtpUrl('smtps://mail.msp.example')).toEqual({ host: 'mail.msp.example', port: 465, implicitTls: true });
  });

  it('says what is wrong with a URL that is not an SMTP server', () => {
    expect(parseSmtpUrl('mail.msp.example:25')).toBe('scheme mail.msp.example is not smtp or smtps');
    expect(parseSmtpUrl('https://mail.msp.example')).toBe('scheme https is not smtp or smtps');
    expect(parseSmtpUrl('smtp://ops@mail.msp.example')).toBe('names a user but no password: use smtp://user:pass@HOST:PORT');
    expect(parseSmtpUrl('not a url')).toBe('not a URL: use smtp://[user:pass@]HOST:PORT or smtps://...');
  });
});

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../relational/open.js';
import { TEST_DATABASES, createSqliteTestDatabase, type TestDatabase } from '../relational/test-databases.js';
import { startHttpReceiver, type HttpReceiver } from '../alerting/notifiers/test-http-receiver.js';
import { closedPort } from '../alerting/notifiers/test-notifier-kit.js';
import { startSmtpReceiver, type SmtpReceiver } from '../alerting/notifiers/test-smtp-receiver.js';
import { CHANNEL_USAGE, channelCommand, type ChannelCommandOptions } from './channel.js';

const SMTP_PASSWORD = 'cli-smtp-pa55-4e9a7b';
const WEBHOOK_SECRET = 'cli-webhook-secret-0f3c9d2e';
const SLACK_PATH = '/services/T0CLI/B0CLI/cliSlackT0ken77';
const SECRETS = [SMTP_PASSWORD, WEBHOOK_SECRET, SLACK_PATH, 'cliSlackT0ken77'];

async function run(argv: string[], options: Omit<ChannelCommandOptions, 'stdout' | 'stderr'>) {
  let stdout = '';
  let stderr = '';
  const code = await channelCommand(argv, { ...options, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  // Whatever the command printed, it never shows a secret.
  for (const secret of SECRETS) expect(stdout + stderr).not.toContain(secret);
  return { code, stdout, stderr };
}

describe.each(TEST_DATABASES)('channel command on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let options: Omit<ChannelCommandOptions, 'stdout' | 'stderr'>;
  let smtp: SmtpReceiver;
  let http: HttpReceiver;

  beforeAll(async () => {
    database = await createDatabase();
    smtp = await startSmtpReceiver({ password: SMTP_PASSWORD });
    http = await startHttpReceiver();
    options = { ...database.options, smtpFrom: 'algwatch@alerts.msp.example', smtpTlsCa: smtp.ca, testTimeoutMs: 5_000 };
    const store = await openRelationalStore(database.options);
    await store.createSite('branch-12', 'acme-dental');
    await store.close();
  });
  afterAll(async () => {
    await smtp?.close();
    await http?.close();
    await database?.drop();
  });

  it('adds an email, a Slack and a webhook channel, each in one line without its secret', async () => {
    expect(await run(['add', 'ops-mail', '--email', 'ops@msp.example,oncall@msp.example', '--smtp-url', smtp.url], options)).toEqual({
      code: 0,
      stdout: `added email channel ops-mail for every tenant: ops@msp.example,oncall@msp.example via smtp://alerts:***@127.0.0.1:${smtp.port}; try it with \`algwatch-server channel test ops-mail\`\n`,
      stderr: '',
    });
    expect(await run(['add', 'acme-slack', '--slack-url', `${http.origin}${SLACK_PATH}`, '--tenant', 'acme-dental'], options)).toMatchObject({
      code: 0,
      stdout: `added slack channel acme-slack for tenant acme-dental: ${http.origin}/***; try it with \`algwatch-server channel test acme-slack\`\n`,
    });
    expect(await run(['add', 'noc-hook', `--webhook-url=${http.origin}/algwatch`, `--secret=${WEBHOOK_SECRET}`], options)).toMatchObject({
      code: 0,
      stdout: `added webhook channel noc-hook for every tenant: ${http.origin}/algwatch (signed); try it with \`algwatch-server channel test noc-hook\`\n`,
    });
  });

  it('lists channels with kind, tenant and destination, secrets hidden', async () => {
    const { code, stdout } = await run(['list'], options);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+KIND\s+TENANT\s+DESTINATION\s+LAST DELIVERED\s+FAILURES\s+LAST ERROR$/);
    expect(rows.map((row) => row.split(/\s{2,}/))).toEqual([
      ['acme-slack', 'slack', 'acme-dental', `${http.origin}/***`, 'never', '0', '-'],
      ['noc-hook', 'webhook', '(all)', `${http.origin}/algwatch (signed)`, 'never', '0', '-'],
      ['ops-mail', 'email', '(all)', `ops@msp.example,oncall@msp.example via smtp://alerts:***@127.0.0.1:${smtp.port}`, 'never', '0', '-'],
    ]);
  });

  it('sends a marked test email through the real SMTP server and says it was delivered', async () => {
    const { code, stdout, stderr } = await run(['test', 'ops-mail'], options);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(`channel ops-mail: test notification delivered to ops@msp.example,oncall@msp.example via smtp://alerts:***@127.0.0.1:${smtp.port}\n`);
    const mail = smtp.mails.at(-1)?.mail;
    expect(mail?.from?.text).toBe('algwatch@alerts.msp.example');
    expect(mail?.subject).toBe('[TEST] info · every tenant/channel-test: Test notification for channel ops-mail');
    expect(mail?.text).toContain('This is a test notification from algwatch: no site has a problem.');
    // A test opens no thread that would have to be remembered.
    expect((await database.query('select count(*) as n from notification_threads')).map((row) => Number(row.n))).toEqual([0]);
  });

  it('sends a marked test to Slack and to the webhook', async () => {
    const before = http.requests.length;
    expect((await run(['test', 'acme-slack'], options)).code).toBe(0);
    expect((await run(['test', 'noc-hook'], options)).code).toBe(0);
    const [slack, webhook] = http.requests.slice(before);
    expect(slack?.path).toBe(SLACK_PATH);
    expect(JSON.parse(slack?.body ?? '{}').blocks[0].text.text).toBe('[TEST] info · acme-dental/channel-test: Test notification for channel acme-slack');
    expect(webhook?.headers['x-algwatch-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(webhook?.body ?? '{}').algwatch.test).toBe(true);
  });

  it('says in one line why a test was not delivered, exit 1, and list shows the failure', async () => {
    http.answer([{ status: 410, body: 'channel_is_archived' }]);
    const { code, stdout, stderr } = await run(['test', 'acme-slack'], options);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toBe(`algwatch-server channel: channel acme-slack: test notification not delivered: Slack webhook ${http.origin}/*** answered HTTP 410 (channel_is_archived): refused, not retried\n`);

    const listed = (await run(['list'], options)).stdout.split('\n').find((row) => row.startsWith('acme-slack')) ?? '';
    const cells = listed.split(/\s{2,}/);
    expect(cells[4]).toMatch(/^\d{4}-\d\d-\d\dT/); // the earlier delivered test
    expect(cells[5]).toBe('1');
    expect(cells[6]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ Slack webhook ${http.origin}/\\*\\*\\* answered HTTP 410`));
  });

  it('says when the SMTP server cannot be reached, exit 1', async () => {
    const port = await closedPort();
    expect((await run(['add', 'dead-mail', '--email', 'ops@msp.example', '--smtp-url', `smtp://alerts:${SMTP_PASSWORD}@127.0.0.1:${port}`], options)).code).toBe(0);
    expect(await run(['test', 'dead-mail'], options)).toEqual({
      code: 1,
      stdout: '',
      stderr: `algwatch-server channel: channel dead-mail: test notification not delivered: SMTP server 127.0.0.1:${port}: connection refused\n`,
    });
  });

  it('refuses a duplicate, an unknown tenant and an unknown channel with one line, exit 1', async () => {
    expect(await run(['add', 'ops-mail', '--slack-url', `${http.origin}${SLACK_PATH}`], options)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'algwatch-server channel: channel ops-mail already exists: remove it first or pick another name\n',
    });
    expect(await run(['add', 'initech-slack', '--slack-url', `${http.origin}${SLACK_PATH}`, '--tenant', 'initech'], options)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'algwatch-server channel: no tenant initech: known tenants are acme-dental (a tenant comes with its first `site add NAME --tenant T`)\n',
    });
    expect(await run(['test', 'nowhere'], options)).toEqual({ code: 1, stdout: '', stderr: 'algwatch-server channel: no channel nowhere: see `channel list`\n' });
    expect(await run(['remove', 'nowhere'], options)).toEqual({ code: 1, stdout: '', stderr: 'algwatch-server channel: no channel nowhere: see `channel list`\n' });
  });

  it('removes a channel', async () => {
    expect(await run(['remove', 'dead-mail'], options)).toEqual({ code: 0, stdout: 'removed email channel dead-mail (every tenant)\n', stderr: '' });
    expect((await run(['list'], options)).stdout).not.toContain('dead-mail');
  });
});

describe('channel command, malformed input', () => {
  let database: TestDatabase;
  let options: Omit<ChannelCommandOptions, 'stdout' | 'stderr'>;
  beforeAll(async () => {
    database = await createSqliteTestDatabase();
    options = database.options;
  });
  afterAll(async () => database?.drop());

  const usage = (problem: string) => ({ code: 2, stdout: '', stderr: `algwatch-server channel: ${problem}; ${CHANNEL_USAGE}\n` });

  it.each([
    [['add', 'm', '--email', 'ops at msp.example', '--smtp-url', 'smtp://mail:25'], '--email "ops at msp.example" is not an address like ops@msp.example'],
    [['add', 'm', '--email', 'ops@msp.example,', '--smtp-url', 'smtp://mail:25'], '--email "" is not an address like ops@msp.example'],
    [['add', 'm', '--email', 'ops@msp.example'], '--email needs --smtp-url smtp[s]://[user:pass@]HOST:PORT, the server that sends the mail'],
    [['add', 'm', '--email', 'ops@msp.example', '--smtp-url', `https://alerts:${SMTP_PASSWORD}@mail:25`], '--smtp-url scheme https is not smtp or smtps'],
    [['add', 'm', '--email', 'ops@msp.example', '--smtp-url', `smtp://alerts:${SMTP_PASSWORD}@mail:25/path`], '--smtp-url takes no path or query: use smtp://[user:pass@]HOST:PORT'],
    [['add', 's', '--slack-url', 'hooks.slack.com/services/T/B/x'], '--slack-url is not an http(s) URL: use the incoming-webhook URL Slack gave you (https://hooks.slack.com/services/...)'],
    [['add', 's', '--slack-url', 'https://hooks.slack.com'], '--slack-url has no path: use the whole incoming-webhook URL Slack gave you (https://hooks.slack.com/services/...)'],
    [['add', 'w', '--webhook-url', 'https://noc.example/hook'], '--webhook-url needs --secret S, the key the receiver checks X-Algwatch-Signature with'],
    [['add', 'w', '--webhook-url', 'ftp://noc.example/hook', '--secret', WEBHOOK_SECRET], '--webhook-url is not an http(s) URL'],
    [['add', 'w', '--webhook-url', `https://noc:${SMTP_PASSWORD}@noc.example/hook`, '--secret', WEBHOOK_SECRET], '--webhook-url must not hold user:password@: the receiver authenticates requests by their signature (--secret)'],
    [['add', 'w', '--webhook-url', 'https://noc.example/hook', '--secret', 'short'], '--secret must be at least 16 characters (e.g. from `openssl rand -hex 32`)'],
    [['add', 'w', '--webhook-url', 'https://noc.example/hook', '--secret'], '--secret needs a value'],
    [['add', 'x', '--slack-url', 'https://hooks.slack.com/services/T/B/x', '--webhook-url', 'https://noc.example/hook'], 'channel add needs exactly one of --email, --slack-url or --webhook-url'],
    [['add', 'x'], 'channel add needs exactly one of --email, --slack-url or --webhook-url'],
    [['add', 'x', '--slack-url', 'https://hooks.slack.com/services/T/B/x', '--secret', WEBHOOK_SECRET], '--secret goes with --webhook-url'],
    [['add', '--slack-url', 'https://hooks.slack.com/services/T/B/x'], 'channel add needs exactly one channel NAME'],
    [['list', '--tenant', 'acme'], '--tenant is not an option of channel list'],
    [['remove'], 'channel remove needs exactly one channel NAME'],
    [['test', 'a', 'b'], 'channel test needs exactly one channel NAME'],
    [['frobnicate'], 'unknown action frobnicate'],
    [[], 'missing action: add, list, remove or test'],
    [['list', '--colour'], 'unknown flag --colour'],
  ])('%j is refused as usage, exit 2: %s', async (argv, problem) => {
    expect(await run(argv, options)).toEqual(usage(problem));
  });

  it('refuses a bad channel name with one line, exit 1, and stores nothing', async () => {
    expect(await run(['add', 'no/slash', '--slack-url', 'https://hooks.slack.com/services/T/B/x'], options)).toMatchObject({ code: 1, stdout: '' });
    expect((await run(['list'], options)).stdout).toMatch(/^no channels yet/);
  });
});

describe('algwatch-server channel (the real binary)', () => {
  it('takes the data directory from ALGWATCH_DATA_DIR as the site commands do', async () => {
    const database = await createSqliteTestDatabase();
    try {
      const bin = fileURLToPath(new URL('../../bin/algwatch-server.js', import.meta.url));
      const env: NodeJS.ProcessEnv = { ...process.env, ALGWATCH_DATA_DIR: database.options.dataDir };
      delete env.ALGWATCH_DATABASE_URL;
      const exec = promisify(execFile);
      const added = await exec(process.execPath, [bin, 'channel', 'add', 'noc', '--webhook-url', 'https://noc.example/hook', '--secret', WEBHOOK_SECRET], { env });
      expect(added.stdout).toBe('added webhook channel noc for every tenant: https://noc.example/hook (signed); try it with `algwatch-server channel test noc`\n');
      const listed = await exec(process.execPath, [bin, 'channel', 'list'], { env });
      expect(listed.stdout).toMatch(/\nnoc\s+webhook\s+\(all\)\s+https:\/\/noc\.example\/hook \(signed\)\s+never\s+0\s+-\n$/);
      expect(listed.stdout + listed.stderr).not.toContain(WEBHOOK_SECRET);
    } finally {
      await database.drop();
    }
  });
});

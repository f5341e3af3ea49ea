/**
 * Alerting end to end on the namespace testbed: the real agent daemon in the lan namespace behind a
 * router, the real server in the wan namespace, a real SMTP server (smtp-server, mails parsed with
 * mailparser) and an HTTP receiver standing in for Slack (it checks the Block Kit shape), reached
 * from the wan namespace through unix-socket bridges. The kernel SIP ALG is switched on in the
 * router while the agent runs, then off; then the agent is killed and started again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRelationalStore } from '../../server/src/relational/open.js';
import { channelCommand } from '../../server/src/commands/channel.js';
import { alertsCommand } from '../../server/src/commands/alerts.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../server/src/alerting/notifiers/test-smtp-receiver.js';
import { startHttpReceiver, type HttpReceiver } from '../../server/src/alerting/notifiers/test-http-receiver.js';
import type { ManagedProcess } from '../helpers/process.js';
import { bridgeUnixToTcp, type UnixBridge } from '../helpers/unix-bridge.js';
import { requireNetns } from '../testbed/netns-gate.js';
import { ROUTER_TABLE, routerRuleset } from '../testbed/router-ruleset.js';
import { TESTBED_ADDRESSES as A, TESTBED_INTERFACES as I, useTopology } from '../testbed/topology.js';
import { assertBuilt } from './algwatch-processes.js';

const netns = requireNetns();
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = join(REPO, 'server/bin/algwatch-server.js');
const AGENT_BIN = join(REPO, 'agent/bin/algwatch-agent.js');
const FORWARDER = join(REPO, 'test/testbed/peers/tcp-to-unix.mjs');
/** Where the wan namespace reaches the receivers (forwarded to the test's own loopback). */
const SMTP_PORT_IN_WAN = 2525;
const SLACK_PORT_IN_WAN = 8099;
const SLACK_PATH = '/services/T0ALGWATCH/B0TEST/0123456789abcdefXYZ';
const OFFLINE_AFTER_S = 40;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

interface SlackBody {
  text: string;
  blocks: Array<{ type: string; text?: { type: string; text: string }; elements?: Array<{ text: string }> }>;
}

describe.runIf(netns)('alert messages from a real agent behind a router whose SIP ALG is switched on and off', () => {
  const topology = useTopology({ sipAlg: false });
  let work: string;
  let dataDir: string;
  let agentDataDir: string;
  let token: string;
  let smtp: SmtpReceiver;
  let slack: HttpReceiver;
  const bridges: UnixBridge[] = [];
  let server: ManagedProcess | undefined;
  let agent: ManagedProcess | undefined;

  /** Slack requests the receiver accepted (answered 200). */
  const slackBodies = () => slack.requests.map((request) => JSON.parse(request.body) as SlackBody);
  const slackText = (body: SlackBody) => JSON.stringify(body.blocks);

  const setAlg = async (on: boolean) => {
    const ruleset = routerRuleset({ lanInterface: I.routerLan, wanInterface: I.routerWan, sipAlg: on, randomPorts: false });
    const result = await topology().exec('router', 'nft', ['-f', '-'], { input: `delete table ip ${ROUTER_TABLE}\n${ruleset}` });
    expect(result.code, result.stderr).toBe(0);
    // Flows that already have (or lack) the helper keep it: start every flow afresh.
    await topology().exec('router', 'conntrack', ['-F']);
  };
  const startAgent = () => {
    agent = topology().spawn('lan', process.execPath, [AGENT_BIN, 'run', '--server', `http://${A.server}:8080`, '--data-dir', agentDataDir], {
      env: { ...process.env, ALGWATCH_TOKEN: token },
    });
  };

  beforeAll(async () => {
    assertBuilt();
    work = await mkdtemp(join(tmpdir(), 'algwatch-alerting-e2e-'));
    dataDir = join(work, 'server');
    agentDataDir = join(work, 'agent');
    smtp = await startSmtpReceiver();
    slack = await startHttpReceiver();
    const caFile = join(work, 'smtp-ca.pem');
    await writeFile(caFile, smtp.ca);
    bridges.push(await bridgeUnixToTcp(join(work, 'smtp.sock'), smtp.port), await bridgeUnixToTcp(join(work, 'slack.sock'), Number(new URL(slack.origin).port)));
    topology().spawn('wan', process.execPath, [FORWARDER, String(SMTP_PORT_IN_WAN), join(work, 'smtp.sock')]);
    topology().spawn('wan', process.execPath, [FORWARDER, String(SLACK_PORT_IN_WAN), join(work, 'slack.sock')]);

    const store = await openRelationalStore({ dataDir });
    const created = await store.createSite('lab', 'acme');
    token = created.token;
    await store.setSiteSchedule(created.site.id, { sipAlg: '*/3 * * * * *', stunMapping: '', natBehavior: '', bindingLifetime: '', keepalive: '', rtpPath: '' });
    await store.close();
    const quiet = { write: () => true };
    const smtpUrl = `smtp://${smtp.user}:${smtp.password}@127.0.0.1:${SMTP_PORT_IN_WAN}`;
    expect(await channelCommand(['add', 'ops-mail', '--email', 'ops@msp.example', '--smtp-url', smtpUrl], { dataDir, stdout: quiet, stderr: quiet })).toBe(0);
    expect(await channelCommand(['add', 'ops-slack', '--slack-url', `http://127.0.0.1:${SLACK_PORT_IN_WAN}${SLACK_PATH}`, '--tenant', 'acme'], { dataDir, stdout: quiet, stderr: quiet })).toBe(0);

    server = topology().spawn(
      'wan',
      process.execPath,
      [SERVER_BIN, '--bind', A.server, '--alt-address', A.serverAlt, '--data-dir', dataDir, '--smtp-from', 'algwatch@msp.example', '--public-url', 'https://algwatch.msp.example',
        '--agent-offline-after', `${OFFLINE_AFTER_S}s`, '--alert-group-wait', '5s', '--alert-group-interval', '5s'],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile } },
    );
    await server.waitForOutput(/algwatch server listening/, 20_000);
    startAgent();
    // Clean results first: the ALG verdicts start out "clean".
    await sleep(8_000);
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    for (const bridge of bridges) await bridge.close();
    await smtp?.close();
    await slack?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('sends exactly one email and one Slack message naming the site and the rewritten headers when the ALG is switched on', async () => {
    expect(smtp.mails).toHaveLength(0);
    expect(slack.requests).toHaveLength(0);
    await setAlg(true);
    await until('the email and the Slack message', 60_000, () => smtp.mails.length >= 1 && slack.requests.length >= 1);
    // Later rounds still see the ALG: nothing more may arrive (group interval 5 s, repeat 4 h).
    await sleep(12_000);
    expect(smtp.mails).toHaveLength(1);
    expect(slack.requests).toHaveLength(1);

    const { mail } = smtp.mails[0]!;
    expect(mail.subject).toMatch(/^\[FIRING\] critical .*acme\/lab/);
    expect(mail.text).toContain('lab');
    // The rewritten headers themselves, per transport.
    expect(mail.text).toMatch(/SIP ALG rewriting SIP over UDP[\s\S]*outbound Via: 198\.51\.100\.2:\d+ -> 203\.0\.113\.1:\d+/);
    expect(mail.text).toMatch(/outbound SDP c=: 198\.51\.100\.2 -> 203\.0\.113\.1/);
    expect(mail.text).toContain('https://algwatch.msp.example/sites/acme/lab');
    expect(mail.html).toContain('acme');

    const [body] = slackBodies();
    expect(slack.requests[0]!.path).toBe(SLACK_PATH);
    expect(body!.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(body!.blocks.some((block) => block.type === 'section')).toBe(true);
    expect(slackText(body!)).toContain('lab');
    // Slack's mrkdwn escapes ">" as "&gt;".
    expect(slackText(body!)).toMatch(/outbound Via: 198\.51\.100\.2:\d+ -(>|&gt;) 203\.0\.113\.1:\d+/);

    let listed = '';
    await alertsCommand([], { dataDir, stdout: { write: (text: string) => (listed += text) }, stderr: { write: () => true } });
    expect(listed).toMatch(/critical +acme +lab +sip_alg_udp .* sent /);
  }, 120_000);

  it('sends exactly one resolution of each when it is switched off, through a Slack receiver that fails 3 times first', async () => {
    slack.answer([{ status: 500, body: 'try later' }, { status: 500 }, { status: 503 }]);
    await setAlg(false);
    await until('the resolution email', 60_000, () => smtp.mails.length >= 2);
    await until('the resolution delivered to Slack', 60_000, () => slack.requests.length >= 5);
    await sleep(12_000);
    expect(smtp.mails).toHaveLength(2);
    const resolution = smtp.mails[1]!.mail;
    expect(resolution.subject).toMatch(/^\[RESOLVED\]/);
    // Threaded under the alert it resolves.
    expect(resolution.inReplyTo).toBe(smtp.mails[0]!.mail.messageId);
    // 1 firing + the same resolution 4 times: 3 refused, the 4th accepted; nothing after it.
    expect(slack.requests).toHaveLength(5);
    const retries = slack.requests.slice(1).map((request) => request.body);
    expect(new Set(retries).size).toBe(1);
    expect(slackText(slackBodies()[4]!)).toMatch(/RESOLVED/i);
  }, 120_000);

  it('raises "agent offline" when the agent is killed and resolves it when the agent is back', async () => {
    const before = smtp.mails.length;
    if (agent?.pid) process.kill(agent.pid, 'SIGKILL');
    await agent?.exited;
    await until('the agent offline email', (OFFLINE_AFTER_S + 60) * 1000, () => smtp.mails.length > before);
    const offline = smtp.mails[before]!.mail;
    expect(offline.subject).toMatch(/^\[FIRING\].*acme\/lab/);
    expect(offline.text).toMatch(/offline/i);
    startAgent();
    await until('the agent back email', 60_000, () => smtp.mails.length > before + 1);
    const back = smtp.mails[before + 1]!.mail;
    expect(back.subject).toMatch(/^\[RESOLVED\]/);
    expect(back.text).toMatch(/offline/i);
  }, 180_000);
});

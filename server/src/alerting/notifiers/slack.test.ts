import { afterEach, describe, expect, it } from 'vitest';
import { slackNotifier } from './slack.js';
import { startHttpReceiver, type HttpAnswer, type HttpReceiver } from './test-http-receiver.js';
import { runNotifierKit, type KitAnswer } from './test-notifier-kit.js';
import { REWRITTEN_CONTACT, REWRITTEN_VIA, firingNotification, resolvedNotification } from './test-notifications.js';

/** Slack's incoming-webhook path is the secret: anyone holding it can post to the channel. */
const SECRET_PATH = '/services/T0AAAAAAA/B0BBBBBBB/s3cr3tW3bh00kT0ken';

const ANSWERS: Record<KitAnswer, HttpAnswer> = {
  accept: { status: 200, body: 'ok' },
  transient: { status: 503, body: 'service unavailable' },
  permanent: { status: 404, body: 'no_service' },
  hang: 'hang',
};

runNotifierKit({
  kind: 'slack',
  secrets: [SECRET_PATH, 's3cr3tW3bh00kT0ken'],
  async start(answer) {
    const receiver = await startHttpReceiver();
    receiver.answer([], ANSWERS[answer]);
    return { notifier: slackNotifier({ url: `${receiver.origin}${SECRET_PATH}` }), deliveries: () => receiver.requests.length, close: () => receiver.close() };
  },
  unreachable: (port) => slackNotifier({ url: `http://127.0.0.1:${port}${SECRET_PATH}` }),
});

interface Block {
  type: string;
  text?: { type: string; text: string };
  elements?: Array<{ type: string; text: string }>;
}

describe('Slack message', () => {
  let receiver: HttpReceiver;
  afterEach(async () => receiver?.close());

  it('posts Block Kit with a header, the alert with its rewritten Via line, a context line and a text fallback', async () => {
    receiver = await startHttpReceiver();
    await slackNotifier({ url: `${receiver.origin}${SECRET_PATH}` }).notify(firingNotification(), new AbortController().signal);

    const [request] = receiver.requests;
    expect(request?.path).toBe(SECRET_PATH);
    expect(request?.headers['content-type']).toBe('application/json');
    const payload = JSON.parse(request?.body ?? '') as { text: string; blocks: Block[] };
    expect(payload.text).toBe('[FIRING] critical · acme-dental/branch-12: SIP ALG rewriting SIP over UDP https://algwatch.msp.example/sites/acme-dental/branch-12');
    expect(payload.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '[FIRING] critical · acme-dental/branch-12: SIP ALG rewriting SIP over UDP' } });
    expect(payload.blocks.at(-1)?.type).toBe('context');
    expect(payload.blocks.length).toBeLessThanOrEqual(50);
    for (const block of payload.blocks) {
      expect(['header', 'section', 'context', 'divider']).toContain(block.type);
      if (block.type === 'section') expect(block.text?.type).toBe('mrkdwn');
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(block.type === 'header' ? 150 : 3000);
    }
    const sections = payload.blocks.filter((block) => block.type === 'section').map((block) => block.text?.text ?? '').join('\n');
    // mrkdwn escapes &, < and >; what Slack shows is the evidence line as the agent saw it.
    expect(sections).toContain('&lt;sip:probe@203.0.113.1:5060&gt;');
    const shown = sections.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    expect(shown).toContain(`\`\`\`${REWRITTEN_VIA}\n${REWRITTEN_CONTACT}\`\`\``);
    expect(sections).toContain('agent gw-branch-12');
    expect(sections).toContain('firing since 2026-12-01 22:10:05 UTC');
    expect(sections).toContain('*What it means for calls:* Calls drop after 30 s');
    expect(sections).toContain('*What to do:* Turn off the SIP ALG');
    const context = payload.blocks.at(-1)?.elements?.map((element) => element.text).join(' ');
    expect(context).toContain('tenant *acme-dental* · site *branch-12*');
    expect(context).toContain('<https://algwatch.msp.example/sites/acme-dental/branch-12|Open the site in algwatch>');
  });

  it('posts the resolution as its own message', async () => {
    receiver = await startHttpReceiver();
    await slackNotifier({ url: `${receiver.origin}${SECRET_PATH}` }).notify(resolvedNotification(), new AbortController().signal);
    const payload = JSON.parse(receiver.requests[0]?.body ?? '') as { text: string; blocks: Block[] };
    expect(payload.blocks[0]?.text?.text).toBe('[RESOLVED] critical · acme-dental/branch-12: SIP ALG rewriting SIP over UDP');
    expect(JSON.stringify(payload.blocks)).toContain('resolved at 2026-12-01 23:02:00 UTC');
  });

  it('names the receiver by its origin only when Slack refuses', async () => {
    receiver = await startHttpReceiver();
    receiver.answer([], { status: 403, body: 'invalid_token' });
    const error = await slackNotifier({ url: `${receiver.origin}${SECRET_PATH}` })
      .notify(firingNotification(), new AbortController().signal)
      .catch((caught: Error) => caught);
    expect((error as Error).message).toBe(`Slack webhook ${receiver.origin}/*** answered HTTP 403 (invalid_token): refused, not retried`);
  });
});

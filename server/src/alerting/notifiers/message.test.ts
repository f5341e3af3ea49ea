import { describe, expect, it } from 'vitest';
import type { NotifiedAlert } from '../notification.js';
import { plainTextBody, subjectLine } from './message.js';
import { slackMessage } from './slack.js';
import { firingNotification } from './test-notifications.js';

const base = firingNotification().alerts[0] as NotifiedAlert;
const alert = (overrides: Partial<NotifiedAlert>): NotifiedAlert => ({ ...base, ...overrides });

describe('message words', () => {
  it('puts firing alerts first, worst first, and names the worst firing severity in the subject', () => {
    const notification = firingNotification({
      alerts: [
        alert({ title: 'Keep-alive target pbx slow', severity: 'warning' }),
        alert({ title: 'Public address changed', severity: 'critical', state: 'resolved', endsAt: '2026-12-01T22:30:00Z' }),
        alert({ title: 'UDP bindings expire after 20 s', severity: 'critical' }),
        alert({ title: 'STUN failing', severity: 'info' }),
        alert({ title: 'SIP over UDP blocked', severity: 'warning' }),
      ],
    });
    expect(subjectLine(notification)).toBe('[FIRING] critical · acme-dental/branch-12: UDP bindings expire after 20 s; Keep-alive target pbx slow; SIP over UDP blocked; +2 more');
    const headings = plainTextBody(notification).split('\n').filter((line) => /^[A-Z]+ (firing|resolved):/.test(line));
    expect(headings).toEqual([
      'CRITICAL firing: UDP bindings expire after 20 s',
      'WARNING firing: Keep-alive target pbx slow',
      'WARNING firing: SIP over UDP blocked',
      'INFO firing: STUN failing',
      'CRITICAL resolved: Public address changed',
    ]);
    expect(plainTextBody(notification)).toContain('algwatch: site branch-12 of tenant acme-dental: 4 firing, 1 resolved.');
  });

  it('marks a test so nobody takes it for an alert', () => {
    const notification = firingNotification({ test: true });
    expect(subjectLine(notification)).toMatch(/^\[TEST\] /);
    expect(plainTextBody(notification).split('\n')[0]).toBe('This is a test notification from algwatch: no site has a problem. If you read this, the channel works.');
  });

  it('keeps a Slack message inside Block Kit`s limits with many alerts and long evidence, closing every code block', () => {
    const evidence = Array.from({ length: 20 }, (_, index) => `outbound SDP c= line ${index}: ${'x'.repeat(280)}`);
    const notification = firingNotification({ alerts: Array.from({ length: 30 }, (_, index) => alert({ title: `alert ${index}`, evidence })) });
    const { blocks } = slackMessage(notification);
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const block of blocks) {
      if (block.type === 'section') {
        expect(block.text.text.length).toBeLessThanOrEqual(3000);
        expect((block.text.text.match(/```/g) ?? []).length % 2).toBe(0);
      }
    }
    expect(JSON.stringify(blocks)).toContain('more lines');
    expect(JSON.stringify(blocks.at(-1))).toContain('+18 more alerts not shown');
  });
});

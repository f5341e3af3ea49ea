/**
 * The notification `channel test` sends: marked as a test everywhere a person looks (subject, first
 * line, Slack header, webhook `algwatch.test`), shaped like a real alert so the team sees what one
 * looks like, and naming no real site.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AlertNotification } from '../notification.js';
import type { Channel } from './channel-store.js';

/** channelTestNotification builds a fresh test notification for `channel` (its own thread each time). */
export function channelTestNotification(channel: Channel, now: Date = new Date()): AlertNotification {
  const tenant = channel.tenant ?? 'every tenant';
  const site = 'channel-test';
  return {
    groupKey: `test/${channel.name}`,
    threadId: `test/${channel.name}/${randomUUID()}`,
    status: 'firing',
    test: true,
    tenant,
    site,
    alerts: [
      {
        fingerprint: createHash('sha256').update(`channel-test/${channel.name}`).digest('hex'),
        rule: 'channel_test',
        severity: 'info',
        state: 'firing',
        tenant,
        site,
        agent: 'none',
        title: `Test notification for channel ${channel.name}`,
        summary: 'A test sent with `algwatch-server channel test`: not an alert, no site has a problem.',
        impact: 'None. Real alerts say here what the problem means for calls.',
        remediation: 'Nothing to do. Real alerts say here what to do, e.g. which router setting turns the SIP ALG off.',
        evidence: ['example of what a real alert shows: outbound Via: SIP/2.0/UDP 192.0.2.10:5060 -> SIP/2.0/UDP 203.0.113.1:5060'],
        startsAt: now.toISOString(),
      },
    ],
  };
}

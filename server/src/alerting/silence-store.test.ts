import { describe, expect, it } from 'vitest';
import { silenceMatches, type Silence } from './silence-store.js';

const hour = 3_600_000;
const silence = (fields: Partial<Silence>): Silence => ({
  id: 's1',
  tenant: 'acme',
  siteId: null,
  siteName: null,
  rule: null,
  startsAt: new Date(0).toISOString(),
  endsAt: new Date(2 * hour).toISOString(),
  reason: 'router swap',
  createdAt: new Date(0).toISOString(),
  ...fields,
});
const alert = { tenant: 'acme', siteId: 'site-1', rule: 'sip_alg_udp' };

describe('silences', () => {
  it('mute a tenant, a site or one rule while in force', () => {
    expect(silenceMatches(silence({}), alert, hour)).toBe(true);
    expect(silenceMatches(silence({ tenant: 'globex' }), alert, hour)).toBe(false);
    expect(silenceMatches(silence({ siteId: 'site-1' }), alert, hour)).toBe(true);
    expect(silenceMatches(silence({ siteId: 'site-2' }), alert, hour)).toBe(false);
    expect(silenceMatches(silence({ rule: 'sip_alg_udp' }), alert, hour)).toBe(true);
    expect(silenceMatches(silence({ rule: 'agent_offline' }), alert, hour)).toBe(false);
  });

  it('act as a maintenance window: nothing before the start, nothing from the end on', () => {
    const window = silence({ startsAt: new Date(hour).toISOString(), endsAt: new Date(2 * hour).toISOString() });
    expect(silenceMatches(window, alert, hour - 1)).toBe(false);
    expect(silenceMatches(window, alert, hour)).toBe(true);
    expect(silenceMatches(window, alert, 2 * hour)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { SiteQuotas } from './site-quota.js';

describe('SiteQuotas', () => {
  it('lets a site send its burst at once, then refills at its rate, and keeps sites apart', () => {
    let now = 1_795_640_000_000;
    const quotas = new SiteQuotas({ resultsPerSecond: 10, resultsBurst: 100, bytesPerDay: 1e9 }, () => now);
    expect(quotas.takeResults('a', 100)).toBeNull();
    expect(quotas.takeResults('a', 1)).toBe('site quota exceeded: at most 10 results/s per site (burst 100); send again later');
    expect(quotas.takeResults('b', 100)).toBeNull();
    now += 1_000;
    expect(quotas.takeResults('a', 10)).toBeNull();
    expect(quotas.takeResults('a', 1)).not.toBeNull();
  });

  it('refuses results once the site sent more than its bytes of the day, until the next UTC day', () => {
    let now = Date.UTC(2026, 11, 1, 23, 0);
    const quotas = new SiteQuotas({ resultsPerSecond: 1_000, resultsBurst: 1_000, bytesPerDay: 2048 }, () => now);
    quotas.countBytes('a', 3_000);
    expect(quotas.takeResults('a', 1)).toBe('site quota exceeded: more than 2 KB from this site today (UTC); results stay with the agent until tomorrow');
    expect(quotas.takeResults('b', 1)).toBeNull();
    now = Date.UTC(2026, 11, 2, 0, 1);
    expect(quotas.takeResults('a', 1)).toBeNull();
  });
});

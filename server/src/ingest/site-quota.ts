/**
 * SiteQuotas bound what one site's agents may make this server store, whichever connections they
 * use: the per-connection batch rate alone let 20 connections on one token store 120,000 results
 * in 4.6 s (issue 16). Two budgets per site:
 * - results per second, a token bucket whose burst lets an outbox flush after an outage;
 * - bytes per UTC day received from the site's agents, every message counted as it arrived.
 * Counters live in this process: with several server processes sharing PostgreSQL, each allows
 * the quota, so a site's ceiling is the quota times the processes its agents reach.
 */

export interface SiteQuotaLimits {
  resultsPerSecond: number;
  /** Results a site may send at once (an outbox flushing after an outage). */
  resultsBurst: number;
  bytesPerDay: number;
}

/**
 * A busy site (3 SIP targets, OPTIONS and CRLF keep-alives every 30 s, the ALG check every 5 min)
 * sends about 0.3 results/s and 15 MB a day; these are far above that and far below an attack.
 */
export const DEFAULT_SITE_QUOTA: SiteQuotaLimits = { resultsPerSecond: 100, resultsBurst: 20_000, bytesPerDay: 500 * 1024 * 1024 };

interface SiteBudget {
  tokens: number;
  refilledAt: number;
  day: number;
  bytes: number;
}

export class SiteQuotas {
  private readonly budgets = new Map<string, SiteBudget>();

  constructor(
    private readonly limits: SiteQuotaLimits = DEFAULT_SITE_QUOTA,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** countBytes adds a message's size to the site's bytes of today. */
  countBytes(siteId: string, bytes: number): void {
    this.budget(siteId).bytes += bytes;
  }

  /**
   * takeResults spends `count` results of the site's budget and returns null, or returns why the
   * batch is refused (nothing is spent then, so the agent's resend is judged afresh).
   */
  takeResults(siteId: string, count: number): string | null {
    const budget = this.budget(siteId);
    if (budget.bytes > this.limits.bytesPerDay) {
      return `site quota exceeded: more than ${formatBytes(this.limits.bytesPerDay)} from this site today (UTC); results stay with the agent until tomorrow`;
    }
    const now = this.now();
    budget.tokens = Math.min(this.limits.resultsBurst, budget.tokens + ((now - budget.refilledAt) / 1000) * this.limits.resultsPerSecond);
    budget.refilledAt = now;
    if (budget.tokens < count) {
      return `site quota exceeded: at most ${this.limits.resultsPerSecond} results/s per site (burst ${this.limits.resultsBurst}); send again later`;
    }
    budget.tokens -= count;
    return null;
  }

  private budget(siteId: string): SiteBudget {
    const now = this.now();
    const day = Math.floor(now / 86_400_000);
    let budget = this.budgets.get(siteId);
    if (!budget) {
      budget = { tokens: this.limits.resultsBurst, refilledAt: now, day, bytes: 0 };
      this.budgets.set(siteId, budget);
    } else if (budget.day !== day) {
      budget.day = day;
      budget.bytes = 0;
    }
    return budget;
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${Math.round(bytes / 1024)} KB`;
}

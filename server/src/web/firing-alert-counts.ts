/**
 * FiringAlertCounts answers "how many alerts fire at this site" for every fleet row without a query
 * per row: it reads the firing alerts (alerting's AlertStore, shared by every server process) every
 * REFRESH_MS and counts them per site.
 */
import type { Logger } from 'pino';
import type { AlertStore } from '../alerting/alert-store.js';

export const REFRESH_MS = 5_000;

export class FiringAlertCounts {
  private counts = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly alerts: Pick<AlertStore, 'listAlerts'>,
    private readonly log: Pick<Logger, 'warn'>,
    refreshMs = REFRESH_MS,
  ) {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  /** count is the site's firing alerts as of the last refresh (0 before the first). */
  count(siteId: string): number {
    return this.counts.get(siteId) ?? 0;
  }

  private async refresh(): Promise<void> {
    try {
      const counts = new Map<string, number>();
      for (const alert of await this.alerts.listAlerts(['firing'])) counts.set(alert.siteId, (counts.get(alert.siteId) ?? 0) + 1);
      this.counts = counts;
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'firing alert counts not refreshed');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

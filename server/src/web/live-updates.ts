/**
 * LiveUpdates turns ingest's results fan-out into the dashboard's `siteUpdate` events: it records
 * every result in the FleetState and, when a browser is connected, sends the site's new row with
 * the new results to the browsers allowed to see it. Results of one site arriving close together
 * are sent as one update (one row query per site per FLUSH_MS, not one per batch).
 */
import type { Logger } from 'pino';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { Site } from '../relational/relational-store.js';
import type { DashboardPublisher } from './dashboard-namespace.js';
import type { UpdateRelay } from './update-relay.js';
import type { FleetState } from './fleet-state.js';
import type { StatusBoard } from './status-board.js';
import { rowOf } from './fleet-routes.js';
import type { SiteDirectory } from './site-directory.js';

const FLUSH_MS = 20;

/** A viewer who sees every tenant: the directory is asked as the system, the rooms do the scoping. */
const SYSTEM_VIEWER = { userId: '', name: 'system', role: 'admin', tenants: null } as const;

export class LiveUpdates {
  private readonly pending = new Map<string, { site: Site; results: ProbeResultMessage[] }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      fleet: FleetState;
      board: StatusBoard;
      directory: SiteDirectory;
      publisher: DashboardPublisher;
      /** Across processes (--redis-url): updates go through it, and are built even with no local browser. */
      relay?: UpdateRelay;
      firingAlerts(siteId: string): number;
      log: Pick<Logger, 'warn'>;
    },
  ) {}

  /** onResults is the ResultsFanOut: never throws. */
  onResults(site: Site, results: ProbeResultMessage[]): void {
    this.deps.fleet.record(site.id, results);
    this.deps.board.record(site, results);
    if (!this.deps.relay && !this.deps.publisher.watched()) return;
    const entry = this.pending.get(site.id);
    if (entry) entry.results.push(...results);
    else this.pending.set(site.id, { site, results: [...results] });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const { site, results } of batch) {
      try {
        const listing = await this.deps.directory.visibleSite(SYSTEM_VIEWER, site.id);
        if (!listing) continue;
        const update = { row: rowOf(this.deps, listing), results };
        if (this.deps.relay) this.deps.relay.publish(listing.tenant, update);
        else this.deps.publisher.publish(listing.tenant, update);
      } catch (error) {
        this.deps.log.warn({ err: (error as Error).message, site: site.name }, 'dashboard update not sent');
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.pending.clear();
  }
}

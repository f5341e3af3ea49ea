/**
 * StatusBoard keeps, per site, a bounded summary of the newest result of each probe, target and
 * transport, fed by ingest's fan-out, with the findings the catalogue
 * (@algwatch/protocol/findings/index) sees in them. It renders the server's status page and answers
 * the dashboard's questions (siteSummary, findings). It reads no time series, so it works the same
 * over InfluxDB and SQLite, and it never keeps an agent's raw `detail` (see result-summary.ts).
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { compareFindings, type Finding } from '@algwatch/protocol/findings/index';
import type { RelationalStore, Site } from '../relational/relational-store.js';
import { asResult, rejudge, summarise, type ResultSummary } from './result-summary.js';
import { renderStatusPage } from './status-page.js';

/** Kept per site at most: probes x targets x transports of one site stay far below this. */
export const MAX_RESULTS_PER_SITE = 64;

export class StatusBoard {
  private readonly latest = new Map<string, Map<string, ResultSummary>>();

  /** record keeps the newest result per probe, target and transport of the site; an older result than the one kept is ignored. */
  record(site: Pick<Site, 'id'>, results: readonly ProbeResultMessage[]): void {
    let bySite = this.latest.get(site.id);
    if (!bySite) this.latest.set(site.id, (bySite = new Map()));
    // The batch judged with what the site showed before it: a round's SIP transports come together.
    const siblings = [...results, ...[...bySite.values()].map(asResult)];
    for (const result of results) {
      const summary = summarise(result, siblings);
      const key = `${summary.probe} ${summary.target} ${summary.transport ?? ''}`;
      const known = bySite.get(key);
      if (known && known.startedAt > summary.startedAt) continue;
      bySite.delete(key);
      bySite.set(key, summary);
      if (bySite.size > MAX_RESULTS_PER_SITE) bySite.delete(bySite.keys().next().value as string);
    }
  }

  /**
   * siteSummary is the newest result of each probe, target and transport of the site, ordered by
   * probe, target and transport, each with its findings judged against the others; empty for a site
   * with no results since the server started (or an unknown one).
   */
  siteSummary(siteId: string): ResultSummary[] {
    const summaries = [...(this.latest.get(siteId)?.values() ?? [])].sort(
      (a, b) => a.probe.localeCompare(b.probe) || a.target.localeCompare(b.target) || (a.transport ?? '').localeCompare(b.transport ?? ''),
    );
    const siblings = summaries.map(asResult);
    return summaries.map((summary) => ({ ...summary, findings: rejudge(summary, siblings) }));
  }

  /** findings lists what the site's newest results show, worst first (then in catalogue order); empty when nothing is wrong or nothing is known. */
  findings(siteId: string): Finding[] {
    return this.siteSummary(siteId).flatMap((summary) => summary.findings).sort(compareFindings);
  }

  /** renderPage is the HTML status page of every site; it refreshes itself every 10 s. */
  async renderPage(relational: Pick<RelationalStore, 'listSites'>): Promise<string> {
    const sites = await relational.listSites();
    return renderStatusPage(sites.map((site) => ({ site, results: this.siteSummary(site.id) })));
  }
}

/**
 * SeenResultStore: the result ids each site has ingested, with the fingerprint of the content first
 * stored under each (migration 0007_result_fingerprints). Ingest reads the fingerprints of a batch's
 * ids before storing anything, so a resend is acked without a second write and a different result
 * reusing a known id is refused; it marks ids seen after the points are stored.
 */
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from './schema.js';

/** SeenMark is one batch's ids to mark seen, with each id's content fingerprint when known. */
export interface SeenMark {
  siteId: string;
  ids: readonly string[];
  fingerprints?: ReadonlyMap<string, string>;
}

// SQLite allows 32,766 bound values per statement: 4 per inserted row, 1 per looked-up id.
const ROWS_PER_INSERT = 5_000;
const IDS_PER_LOOKUP = 5_000;

export class SeenResultStore {
  constructor(private readonly db: Kysely<RelationalDatabase>) {}

  /**
   * knownFingerprints returns, for each id of `ids` this site has ingested, the fingerprint stored
   * with it (null for ids stored before fingerprints existed). Ids never seen are absent.
   */
  async knownFingerprints(siteId: string, ids: readonly string[]): Promise<Map<string, string | null>> {
    const known = new Map<string, string | null>();
    for (let start = 0; start < ids.length; start += IDS_PER_LOOKUP) {
      const rows = await this.db
        .selectFrom('seen_results')
        .select(['result_id', 'fingerprint'])
        .where('site_id', '=', siteId)
        .where('result_id', 'in', ids.slice(start, start + IDS_PER_LOOKUP))
        .execute();
      for (const row of rows) known.set(row.result_id, row.fingerprint);
    }
    return known;
  }

  /** markResultsSeen marks one site's ids seen and resolves with those that were new (see markManyResultsSeen). */
  async markResultsSeen(siteId: string, ids: readonly string[], fingerprints?: ReadonlyMap<string, string>): Promise<string[]> {
    const fresh = await this.markManyResultsSeen([{ siteId, ids, ...(fingerprints ? { fingerprints } : {}) }]);
    return fresh.map((row) => row.resultId);
  }

  /**
   * markManyResultsSeen records the ids of several batches in one statement and returns the (site, id)
   * pairs that were new; an id already seen keeps the fingerprint it was first stored with. Two
   * concurrent calls with the same id report it new once (the primary key decides).
   */
  async markManyResultsSeen(marks: readonly SeenMark[]): Promise<Array<{ siteId: string; resultId: string }>> {
    if (marks.length === 0) return [];
    const receivedAt = new Date().toISOString();
    const rows = new Map<string, { site_id: string; result_id: string; received_at: string; fingerprint: string | null }>();
    for (const { siteId, ids, fingerprints } of marks) {
      for (const id of ids) {
        const key = `${siteId} ${id}`;
        if (!rows.has(key)) rows.set(key, { site_id: siteId, result_id: id, received_at: receivedAt, fingerprint: fingerprints?.get(id) ?? null });
      }
    }
    const all = [...rows.values()];
    const fresh: Array<{ siteId: string; resultId: string }> = [];
    for (let start = 0; start < all.length; start += ROWS_PER_INSERT) {
      const inserted = await this.db
        .insertInto('seen_results')
        .values(all.slice(start, start + ROWS_PER_INSERT))
        .onConflict((oc) => oc.columns(['site_id', 'result_id']).doNothing())
        .returning(['site_id', 'result_id'])
        .execute();
      for (const row of inserted) fresh.push({ siteId: row.site_id, resultId: row.result_id });
    }
    return fresh;
  }
}

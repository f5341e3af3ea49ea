/**
 * SeenResultsBatcher marks the result ids of concurrent batches seen in one statement. Every batch
 * that arrives while a flush is waiting or running joins the next one, so under load the database
 * sees one statement per flush instead of one per batch, and an idle server adds no delay (a flush
 * starts on the next turn of the event loop).
 */
import type { SeenMark } from '../relational/seen-result-store.js';

/** SeenMarker is the statement the batcher coalesces into (SeenResultStore.markManyResultsSeen). */
export interface SeenMarker {
  markManyResultsSeen(marks: readonly SeenMark[]): Promise<Array<{ siteId: string; resultId: string }>>;
}

interface PendingMark extends SeenMark {
  resolve: (fresh: string[]) => void;
  reject: (error: unknown) => void;
}

export class SeenResultsBatcher {
  private pending: PendingMark[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly relational: SeenMarker) {}

  /**
   * markResultsSeen (same contract as the store's) resolves with the ids of `ids` this site had not
   * seen before (each id new exactly once), recording each new id's fingerprint when given.
   */
  markResultsSeen(siteId: string, ids: readonly string[], fingerprints?: ReadonlyMap<string, string>): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ siteId, ids, ...(fingerprints ? { fingerprints } : {}), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the flush in progress: marks arriving meanwhile gather into the next statement.
        this.flushing = this.flushing.then(() => new Promise<void>((done) => setImmediate(() => this.flush().finally(done))));
      }
    });
  }

  private async flush(): Promise<void> {
    const marks = this.pending;
    this.pending = [];
    this.scheduled = false;
    try {
      const fresh = await this.relational.markManyResultsSeen(marks);
      const bySite = new Map<string, Set<string>>();
      for (const { siteId, resultId } of fresh) {
        let ids = bySite.get(siteId);
        if (!ids) bySite.set(siteId, (ids = new Set()));
        ids.add(resultId);
      }
      for (const mark of marks) {
        // Each fresh id goes to the first batch that carried it, so a duplicate batch in the same
        // flush does not fan the same result out twice.
        const siteFresh = bySite.get(mark.siteId);
        const mine = mark.ids.filter((id) => siteFresh?.delete(id));
        mark.resolve(mine);
      }
    } catch (error) {
      for (const mark of marks) mark.reject(error);
    }
  }
}

/**
 * ResultsFeed is the typed stream of newly stored results: ingest publishes each batch once, after
 * it is durably stored; alerting and the dashboard subscribe. A subscriber that throws is logged
 * and never stops the others or ingest.
 */
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { Site } from '../relational/relational-store.js';

/** StoredResults is one stored batch: the site (from the agent's token), the agent, the new results. */
export interface StoredResults {
  site: Site;
  agentId: string;
  results: ProbeResultMessage[];
}

export type ResultsListener = (batch: StoredResults) => void;

export class ResultsFeed {
  private readonly listeners = new Set<ResultsListener>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  /** subscribe adds a listener; the returned function removes it. */
  subscribe(listener: ResultsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** publish hands the batch to every listener in subscription order. */
  publish(batch: StoredResults): void {
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}

import { describe, expect, it } from 'vitest';
import { ResultsFeed, type StoredResults } from './results-feed.js';

const batch = { site: { id: 's', name: 'hq', tenantId: 't', tenantName: 'acme', createdAt: '' }, agentId: 'a', results: [] } satisfies StoredResults;

describe('results feed', () => {
  it('gives every subscriber each batch, even when one of them throws', () => {
    const errors: unknown[] = [];
    const feed = new ResultsFeed((error) => errors.push(error));
    const seen: string[] = [];
    feed.subscribe(() => {
      throw new Error('broken subscriber');
    });
    const unsubscribe = feed.subscribe((b) => seen.push(b.agentId));
    feed.publish(batch);
    unsubscribe();
    feed.publish(batch);
    expect(seen).toEqual(['a']);
    expect(errors).toHaveLength(2);
  });
});

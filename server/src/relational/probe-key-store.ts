/**
 * activeSiteTokenHashes: the hashes of every agent token not revoked, with their site. The reflector
 * derives each site's probe key from them (reflector/signed-probes.ts) and reloads them often, so an
 * enrolment or a revocation made by `algwatch-server site` in another process reaches it.
 */
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from './schema.js';

/** activeSiteTokenHashes resolves with one row per active token; rejects when the database fails. */
export async function activeSiteTokenHashes(db: Kysely<RelationalDatabase>): Promise<Array<{ siteId: string; tokenHash: string }>> {
  const rows = await db.selectFrom('agent_tokens').select(['site_id', 'token_hash']).where('revoked_at', 'is', null).execute();
  return rows.map((row) => ({ siteId: row.site_id, tokenHash: row.token_hash }));
}

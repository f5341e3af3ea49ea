/**
 * refreshProbeKeys keeps the reflector's site keys in step with the relational store: enrolments
 * and revocations are made by `algwatch-server site` in another process (or another server sharing
 * PostgreSQL), so the active token hashes are reloaded every PROBE_KEY_REFRESH_MS.
 */
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import { activeSiteTokenHashes } from '../relational/probe-key-store.js';
import type { RelationalDatabase } from '../relational/schema.js';
import type { SignedProbes } from './signed-probes.js';

/** A new site's signed probes pay from its own budget within this; a revoked token's stop within it. */
export const PROBE_KEY_REFRESH_MS = 2_000;

/**
 * refreshProbeKeys loads the keys once (resolving when loaded; a failure is logged and the reflector
 * goes on with the keys it had) and then every `everyMs`. stop() ends the refreshing.
 */
export async function refreshProbeKeys(
  db: Kysely<RelationalDatabase>,
  signedProbes: SignedProbes,
  log: Pick<Logger, 'warn'>,
  everyMs = PROBE_KEY_REFRESH_MS,
): Promise<{ stop(): void }> {
  let failing = false;
  let running = false;
  const load = async () => {
    if (running) return;
    running = true;
    try {
      signedProbes.setTokens(await activeSiteTokenHashes(db));
      failing = false;
    } catch (err) {
      // Once per outage: a database that stays away must not fill the log every two seconds.
      if (!failing) log.warn({ err: (err as Error).message }, 'could not reload the sites\' probe keys; signed probes keep the keys already known');
      failing = true;
    } finally {
      running = false;
    }
  };
  await load();
  const timer = setInterval(() => void load(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * watchTokenRevocations cuts off connected agents within REVOCATION_POLL_INTERVAL_MS of their token
 * being revoked, whether they are sending or idle. Tokens are revoked by `algwatch-server site
 * revoke` in another process, or through another server sharing PostgreSQL, so each server polls the
 * revocation stamps; the query reads one small table by time.
 */
import type { Logger } from 'pino';
import type { RelationalStore } from '../relational/relational-store.js';
import type { AgentGateway } from './agent-gateway.js';

export const REVOCATION_POLL_INTERVAL_MS = 500;

export interface RevocationWatch {
  checkNow(): Promise<void>;
  stop(): void;
}

export function watchTokenRevocations(
  relational: Pick<RelationalStore, 'sitesWithTokensRevokedSince'>,
  agents: Pick<AgentGateway, 'recheckTokens'>,
  log: Pick<Logger, 'info' | 'warn'>,
  intervalMs = REVOCATION_POLL_INTERVAL_MS,
): RevocationWatch {
  // Stamps come from other processes' clocks: look back past the last poll so none falls between two.
  const overlapMs = 2_000;
  let since = new Date().toISOString();
  let running: Promise<void> | null = null;
  let lastFailureLogged = false;
  const check = async () => {
    const started = new Date();
    const sites = await relational.sitesWithTokensRevokedSince(since);
    since = new Date(started.getTime() - overlapMs).toISOString();
    for (const siteId of sites) {
      const cut = await agents.recheckTokens(siteId);
      if (cut > 0) log.info({ siteId, agents: cut }, 'token revoked: disconnected agents');
    }
    lastFailureLogged = false;
  };
  const checkNow = () => {
    running ??= check()
      .catch((err: Error) => {
        // Once per outage of the database, not twice a second.
        if (!lastFailureLogged) log.warn({ err: err.message }, 'could not check for revoked tokens');
        lastFailureLogged = true;
      })
      .finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => void checkNow(), intervalMs);
  timer.unref();
  return { checkNow, stop: () => clearInterval(timer) };
}

/**
 * watchSiteConfigChanges pushes a site's new schedule and targets to its connected agents when
 * they change, and forwards operators' "run now" requests. Changes are made by `algwatch-server site ...` in another process, or by another
 * server process sharing PostgreSQL, so each server polls the change stamps rather than being told.
 */
import type { Logger } from 'pino';
import type { RelationalStore } from '../relational/relational-store.js';
import type { AgentGateway } from './agent-gateway.js';

export const CONFIG_POLL_INTERVAL_MS = 5_000;

export interface ConfigWatch {
  /** checkNow looks for changes at once (tests, and after a local change). */
  checkNow(): Promise<void>;
  stop(): void;
}

export function watchSiteConfigChanges(
  relational: Pick<RelationalStore, 'sitesWithConfigChangedSince' | 'runNowRequestsSince'>,
  agents: Pick<AgentGateway, 'pushConfig' | 'runNow'>,
  log: Pick<Logger, 'info' | 'warn'>,
  intervalMs = CONFIG_POLL_INTERVAL_MS,
): ConfigWatch {
  // Look back a little past the last poll: stamps come from other processes' clocks and a change
  // stamped during our previous query must not fall between two polls. Pushing twice is harmless.
  const overlapMs = 2_000;
  let since = new Date().toISOString();
  let running: Promise<void> | null = null;
  // Run-now requests seen in the overlap window must be forwarded once, not once per poll.
  let forwarded = new Set<string>();
  const check = async () => {
    const started = new Date();
    const [changed, runNow] = await Promise.all([relational.sitesWithConfigChangedSince(since), relational.runNowRequestsSince(since)]);
    since = new Date(started.getTime() - overlapMs).toISOString();
    for (const siteId of changed) {
      const reached = await agents.pushConfig(siteId);
      if (reached > 0) log.info({ siteId, agents: reached }, 'pushed new site config to agents');
    }
    const stillInWindow = new Set<string>();
    for (const request of runNow) {
      stillInWindow.add(request.id);
      if (forwarded.has(request.id)) continue;
      const reached = await agents.runNow(request.siteId, request.probes);
      if (reached > 0) log.info({ siteId: request.siteId, probes: request.probes, agents: reached }, 'asked agents to run probes now');
    }
    forwarded = stillInWindow;
  };
  const checkNow = () => {
    running ??= check()
      .catch((err: Error) => log.warn({ err: err.message }, 'could not check for site config changes'))
      .finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => void checkNow(), intervalMs);
  timer.unref();
  return { checkNow, stop: () => clearInterval(timer) };
}

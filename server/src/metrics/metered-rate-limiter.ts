/**
 * meteredLimiter gives one reflector its view of the shared per-source budget: the same buckets
 * (SIP and STUN share one budget per source address, so a flood cannot use both), but every
 * decision is counted under that reflector's name in algwatch_reflector_requests_total.
 */
import type { SourceRateLimiter } from '../reflector/rate-limit.js';
import type { SignedProbes } from '../reflector/signed-probes.js';
import type { ReflectorName, ServerMetrics } from './server-metrics.js';

/** meteredLimiter returns a limiter that decides exactly as `shared` does and counts each decision. */
export function meteredLimiter(shared: SourceRateLimiter, reflector: ReflectorName, metrics: ServerMetrics): SourceRateLimiter {
  // Plain numbers per packet; ServerMetrics hands them to prom-client at each scrape (bench stun).
  const tally = metrics.reflectorTally[reflector];
  // Everything but allow() (exhausted, trackedSources) reads the shared buckets through the prototype.
  const view = Object.create(shared) as SourceRateLimiter;
  view.allow = (source: string, now?: number): boolean => {
    const allowed = shared.allow(source, now);
    if (allowed) tally.answered++;
    else tally.rate_limited++;
    return allowed;
  };
  return view;
}

/**
 * meteredSignedProbes is the same for signed probes, which pay from their site's budget instead of
 * their source address's: the view decides as `shared` does (same keys, same budgets; the key
 * refresh keeps updating `shared`) and counts each budget decision under the reflector's name.
 */
export function meteredSignedProbes(shared: SignedProbes, reflector: ReflectorName, metrics: ServerMetrics): SignedProbes {
  const tally = metrics.reflectorTally[reflector];
  const view = Object.create(shared) as SignedProbes;
  view.allow = (siteId: string, now?: number): boolean => {
    const allowed = shared.allow(siteId, now);
    if (allowed) tally.answered++;
    else tally.rate_limited++;
    return allowed;
  };
  return view;
}

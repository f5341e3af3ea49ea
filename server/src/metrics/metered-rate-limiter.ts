/**
 * meteredLimiter gives one reflector its view of the shared per-source budget: the same buckets
 * (SIP and STUN share one budget per source address, so a flood cannot use both), but every
 * decision is counted under that reflector's name in algwatch_reflector_requests_total.
 */
import type { SourceRateLimiter } from '../reflector/rate-limit.js';
import type { ReflectorName, ServerMetrics } from './server-metrics.js';

/** meteredLimiter returns a limiter that decides exactly as `shared` does and counts each decision. */
export function meteredLimiter(shared: SourceRateLimiter, reflector: ReflectorName, metrics: ServerMetrics): SourceRateLimiter {
  // Bound children once: the reflectors call allow() per packet, and a label lookup per packet is
  // measurable in bench/reflection.
  const answered = metrics.reflectorRequests.labels({ reflector, outcome: 'answered' });
  const limited = metrics.reflectorRequests.labels({ reflector, outcome: 'rate_limited' });
  // Everything but allow() (exhausted, trackedSources) reads the shared buckets through the prototype.
  const view = Object.create(shared) as SourceRateLimiter;
  view.allow = (source: string, now?: number): boolean => {
    const allowed = shared.allow(source, now);
    (allowed ? answered : limited).inc();
    return allowed;
  };
  return view;
}

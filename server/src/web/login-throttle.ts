/**
 * LoginThrottle slows password guessing: failed logins are counted per username and per client
 * address (token buckets); once either bucket is empty, logins for it are refused without checking
 * the password until it refills. Successful logins cost nothing. Per process: with several servers
 * behind one address a guesser gets each process's budget, still a handful per minute.
 */
import { SourceRateLimiter } from '../reflector/rate-limit.js';

export interface LoginThrottleOptions {
  /** Failures a username may have in a row before waiting; then one per `perUserRefillSeconds`. */
  perUserBurst: number;
  perUserRefillSeconds: number;
  /** The same per client address (one office behind NAT has several users). */
  perAddressBurst: number;
  perAddressRefillSeconds: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = { perUserBurst: 5, perUserRefillSeconds: 60, perAddressBurst: 20, perAddressRefillSeconds: 30 };

export class LoginThrottle {
  private readonly byUser: SourceRateLimiter;
  private readonly byAddress: SourceRateLimiter;

  constructor(private readonly options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE) {
    this.byUser = new SourceRateLimiter({ burst: options.perUserBurst, ratePerSecond: 1 / options.perUserRefillSeconds, maxSources: 10_000 });
    this.byAddress = new SourceRateLimiter({ burst: options.perAddressBurst, ratePerSecond: 1 / options.perAddressRefillSeconds, maxSources: 10_000 });
  }

  /** refusedFor returns the seconds to wait when this login must not be tried now, else 0. */
  refusedFor(username: string, address: string): number {
    if (this.byUser.exhausted(username.toLowerCase())) return this.options.perUserRefillSeconds;
    if (this.byAddress.exhausted(address)) return this.options.perAddressRefillSeconds;
    return 0;
  }

  /** recordFailure counts a wrong password (or unknown user) against both buckets. */
  recordFailure(username: string, address: string): void {
    this.byUser.allow(username.toLowerCase());
    this.byAddress.allow(address);
  }
}

/**
 * The one small interface every probe implements. `check`, the daemon's scheduler and the tests all
 * run probes through `runProbe`, which owns what every probe shares: the timeout, the timing, and
 * turning a thrown error into a failed result.
 */
import type * as z from '@algwatch/protocol/zod';
import type { MetricPoint } from '@algwatch/protocol/measurements';
import type { ProbeKey } from '@algwatch/protocol/probe-signature';

/** ProbeTarget is where a probe points: algwatch's reflector, or one of the site's SIP peers. */
export interface ProbeTarget {
  host: string;
  /** Defaults are the probe's own (5060 SIP, 5061 SIP TLS, 3478 STUN). */
  port?: number;
  /** Short label written as the `target` tag; defaults to host[:port]. */
  name?: string;
  /**
   * Only for algwatch's reflector: the site's probe key. STUN and SIP probes sign their requests with
   * it so the reflector pays their answers from the site's budget (protocol/probe-signature.ts).
   * Never set for a site's own peers, which would not understand the signature.
   */
  probeKey?: ProbeKey;
}

export interface ProbeContext {
  /** Aborted when the runner's timeout fires or the agent shuts down. */
  signal: AbortSignal;
  /** Progress for a person waiting on a long probe (binding lifetime); the daemon ignores it. */
  progress(message: string): void;
}

/**
 * ProbeOutcome is what a probe found. A network outcome (no answer, refused, an error response) is
 * an outcome with success=false, never an exception: probes throw only for bugs and bad options.
 */
export interface ProbeOutcome<Detail> {
  success: boolean;
  detail: Detail;
  points: MetricPoint[];
  /** Why success is false, in one line, when the probe knows (e.g. REFLECTOR_BUSY); becomes the run's error. */
  reason?: string;
}

export interface Probe<Options, Detail> {
  /** Registry key and the name used in schedules; equals the probe's file name. */
  readonly name: string;
  readonly optionsSchema: z.ZodMiniType<Options>;
  readonly defaults: Options;
  /** Default time budget for one run, in milliseconds. */
  readonly timeoutMs: number;
  run(ctx: ProbeContext, target: ProbeTarget, options: Options): Promise<ProbeOutcome<Detail>>;
}

/** targetLabel is the `target` tag value for a target. */
export function targetLabel(target: ProbeTarget): string {
  return target.name ?? (target.port ? `${target.host}:${target.port}` : target.host);
}
